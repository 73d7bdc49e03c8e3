#!/bin/sh
# utils/gen-test-certs.sh [DIR] -- a throwaway CA and the certificates the
# TLS tests use, in DIR (default tests/tls). For tests only: the keys are
# unencrypted (but one) and the passphrase is in this file.
#
#   ca.crt ca.key           the test CA
#   server.crt server.key   CN=localhost, SAN localhost and 127.0.0.1
#   client.crt client.key   a client certificate signed by the same CA
#   server-pass.key         server.key encrypted with passphrase "secret"
#   other-ca.crt            an unrelated CA: verifying with it must fail
#   other-client.crt/.key   a client certificate signed by other-ca
#   dh.pem                  DH parameters (ffdhe2048, no slow generation)
#   ca-dir/                 ca.crt as an OpenSSL hashed directory (tls-ca-cert-dir)
#
# EC P-256 keys keep it fast. Needs the openssl command line tool.
set -e
dir=${1:-tests/tls}
mkdir -p "$dir"
cd "$dir"

ossl() { openssl "$@" 2>/dev/null; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

make_ca() { # name subject
    newkey "$1.key"
    ossl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "$2" -out "$1.crt"
}

# sign name ca subject extensions-file
sign() {
    newkey "$1.key"
    ossl req -new -key "$1.key" -subj "$3" -out "$1.csr"
    ossl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 3650 -sha256 \
        -extfile "$4" -out "$1.crt"
    rm -f "$1.csr"
}

cat > server.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
cat > client.ext <<'EXT'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT

make_ca ca "/O=redis-pubsub test/CN=redis-pubsub test CA"
make_ca other-ca "/O=redis-pubsub test/CN=unrelated CA"
sign server ca "/O=redis-pubsub test/CN=localhost" server.ext
sign client ca "/O=redis-pubsub test/CN=client" client.ext
sign other-client other-ca "/O=redis-pubsub test/CN=other client" client.ext
ossl pkey -in server.key -aes256 -passout pass:secret -out server-pass.key
ossl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem
mkdir -p ca-dir
cp ca.crt ca-dir/
ln -sf ca.crt "ca-dir/$(openssl x509 -hash -noout -in ca.crt).0"
rm -f server.ext client.ext ca.srl other-ca.srl
chmod 644 ./*.key
