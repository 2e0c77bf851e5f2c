#!/usr/bin/env bash
# The manual route the plugin replaces, as a shell loop: three openssl processes per device.
# usage: openssl_loop.sh OUT_DIR DEVICE_DIR...   (each DEVICE_DIR holds AWS IoT's PEM files)
set -eu
out=$1
shift
for dir in "$@"; do
  name=${dir##*/}
  mkdir -p "$out/$name"
  openssl x509 -in "$dir"/*-certificate.pem.crt -outform DER -out "$out/$name/cert.der"
  openssl x509 -in "$dir"/AmazonRootCA1.pem -outform DER -out "$out/$name/ca.der"
  openssl rsa -in "$dir"/*-private.pem.key -outform DER -out "$out/$name/private.der" 2>/dev/null
done
