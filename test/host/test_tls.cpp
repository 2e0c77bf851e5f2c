#include <doctest/doctest.h>

#include "aws_iot_tls.h"

using namespace awsiot;

TEST_CASE("a server that negotiates MFLN gets small buffers") {
  TlsBuffers b = choose_tls_buffers(50000, 1024);
  CHECK(b.recv == 1024);
  CHECK(b.xmit == 1024);
  b = choose_tls_buffers(50000, 512);
  CHECK(b.recv == 512);
  CHECK(b.xmit == 512);
  b = choose_tls_buffers(50000, 4096);
  CHECK(b.recv == 4096);
  CHECK(b.xmit == 1024);
}

TEST_CASE("without MFLN the receive buffer is a full TLS record") {
  TlsBuffers b = choose_tls_buffers(40000, 0);
  CHECK(b.recv == 16384);
  CHECK(b.xmit == 1024);
  CHECK(tls_heap_needed(b) == 16384 + 325 + 1024 + 85 + kTlsContextBytes);
  b = choose_tls_buffers(tls_heap_needed(TlsBuffers{16384, 1024}), 0);
  CHECK(b.xmit == 1024);
  b = choose_tls_buffers(tls_heap_needed(TlsBuffers{16384, 1024}) - 1, 0);
  CHECK(b.xmit == 512);
  b = choose_tls_buffers(20000, 3000);  // not a valid MFLN value
  CHECK(b.recv == 16384);
}

TEST_CASE("MFLN: a probe that got no answer is repeated; a 'no' from a server that answered is kept") {
  MflnMemory m;
  CHECK(m.should_probe());
  m.record_probe(false, 1024);  // nothing answered, or the server declined: unknown yet
  CHECK(m.fragment() == 0);
  CHECK_FALSE(m.known());
  m.record_attempt(false);  // the attempt did not reach TLS either (DNS, TCP ...)
  CHECK(m.should_probe());  // so probe again before the next attempt
  m.record_probe(false, 1024);
  m.record_attempt(true);  // the server answered TLS: it really declines MFLN (AWS)
  CHECK_FALSE(m.should_probe());
  CHECK(m.known());
  CHECK(m.fragment() == 0);
  m.record_attempt(false);  // later failures do not make it forget
  CHECK_FALSE(m.should_probe());
}

TEST_CASE("MFLN: an accepted probe is kept for the boot") {
  MflnMemory m;
  m.record_probe(true, 1024);
  CHECK(m.fragment() == 1024);
  m.record_attempt(false);
  CHECK_FALSE(m.should_probe());
  CHECK(m.fragment() == 1024);
}
