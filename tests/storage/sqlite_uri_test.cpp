// Backend selection from the --db value, and password redaction.
#include <gtest/gtest.h>

#include "core/errors.hpp"
#include "sqlite_test_util.hpp"
#include "storage/database.hpp"
#include "support/test_support.hpp"

namespace tasnap::storage {
namespace {

TEST(BackendOf, SelectsBackendByForm) {
  EXPECT_EQ(backend_of("sqlite:tasnap.db"), Backend::sqlite);
  EXPECT_EQ(backend_of("sqlite:/tmp/a=b.db"), Backend::sqlite);
  EXPECT_EQ(backend_of("postgresql://u@h/db"), Backend::postgresql);
  EXPECT_EQ(backend_of("postgres://h/db"), Backend::postgresql);
  EXPECT_EQ(backend_of("host=/tmp dbname=tasnap"), Backend::postgresql);
}

TEST(BackendOf, UnknownSchemeNamesValueAndForms) {
  try {
    backend_of("mysql://x");
    FAIL() << "mysql://x was accepted";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("mysql://x"), std::string::npos) << message;
    EXPECT_NE(message.find("sqlite:PATH"), std::string::npos) << message;
    EXPECT_NE(message.find("postgresql://"), std::string::npos) << message;
    EXPECT_NE(message.find("key=value"), std::string::npos) << message;
  }
}

TEST(BackendOf, UnknownSchemeHidesPassword) {
  try {
    backend_of("mysql://root:SECRET@h/db");
    FAIL() << "mysql:// was accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
  }
}

TEST(OpenDatabase, EmptySqlitePathIsInputError) {
  DbConfig config;
  config.uri = "sqlite:";
  EXPECT_THROW(open_database(config), InputError);
}

TEST(RedactUri, HidesPasswordInUri) {
  EXPECT_EQ(redact_uri("postgresql://u:SECRET@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_uri("postgres://u:SECRET@h:5433/db?sslmode=require"),
            "postgres://u:***@h:5433/db?sslmode=require");
  EXPECT_EQ(redact_uri("postgresql://u:SE@CRET@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_uri("postgresql://h/db?user=u&password=SECRET&sslmode=disable"),
            "postgresql://h/db?user=u&password=***&sslmode=disable");
  EXPECT_EQ(redact_uri("postgresql://u@h/db"), "postgresql://u@h/db");
  EXPECT_EQ(redact_uri("postgresql:///db?host=/tmp"), "postgresql:///db?host=/tmp");
}

TEST(RedactUri, HidesPasswordInKeyValue) {
  EXPECT_EQ(redact_uri("host=/tmp password=SECRET dbname=x"), "host=/tmp password=*** dbname=x");
  EXPECT_EQ(redact_uri("host=h password = 'SE CRET' user=u"), "host=h password = *** user=u");
  EXPECT_EQ(redact_uri("password='a\\'SECRET' user=u"), "password=*** user=u");
  EXPECT_EQ(redact_uri("dbname=x user=u"), "dbname=x user=u");
}

TEST(RedactUri, NeverContainsPassword) {
  const std::vector<std::string> uris = {
      "postgresql://u:SECRET@h/db",          "postgres://SECRET:SECRET@h/SECRETdb",
      "postgresql://h/db?password=SECRET",   "password=SECRET",
      "host=h password='SECRET'",            "host=h   password   =   SECRET",
      "password='x\\'SECRET y' dbname=db",   "mysql://u:SECRET@h/db",
  };
  for (const auto& uri : uris) {
    const std::string redacted = redact_uri(uri);
    EXPECT_EQ(redacted.find("SECRET@"), std::string::npos) << uri << " -> " << redacted;
    EXPECT_EQ(redacted.find("=SECRET"), std::string::npos) << uri << " -> " << redacted;
    EXPECT_EQ(redacted.find("'SECRET"), std::string::npos) << uri << " -> " << redacted;
    EXPECT_EQ(redacted.find(" SECRET"), std::string::npos) << uri << " -> " << redacted;
    EXPECT_NE(redacted.find("***"), std::string::npos) << uri << " -> " << redacted;
  }
}

TEST(RedactUri, SqliteUnchanged) {
  EXPECT_EQ(redact_uri("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
}

TEST(DataCommands, UnknownSchemeExitsWithTwo) {
  const auto result = testing::run_command(testing::shell_quote(testing::tasnap_binary().string()) +
                                           " init --db mysql://x");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("mysql://x"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("sqlite:PATH"), std::string::npos) << result.output;
}

}  // namespace
}  // namespace tasnap::storage
