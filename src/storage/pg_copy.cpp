// Owned by the PostgreSQL engineer: binary COPY encoding and decoding.
