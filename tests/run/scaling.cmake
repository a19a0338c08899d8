# Tests of the scaling harness (bench/scaling, tools/plot_scaling.py). They
# link the harness library, which exists only when the benchmarks are built.
if(TASNAP_BUILD_BENCH)
  tasnap_add_gtest(NAME scaling_unit_test
    SOURCES scaling_check_test.cpp scaling_file_test.cpp scaling_test_hdf5.cpp
    LIBS tasnap_scaling_lib nlohmann_json::nlohmann_json
    LABELS unit)

  tasnap_add_gtest(NAME scaling_harness_test
    SOURCES scaling_harness_test.cpp scaling_test_hdf5.cpp
    LIBS tasnap_scaling_lib
    LABELS mpi
    TIMEOUT 600)
  set_property(TEST scaling_harness_test APPEND PROPERTY
    ENVIRONMENT "TASNAP_SCALING_BINARY=$<TARGET_FILE:tasnap_scaling>")
endif()
