// LOGF("format", ...): printf to Serial. On the ESP8266 the format string stays in flash
// (ordinary string constants live in its scarce data RAM, which the TLS handshake needs).
#pragma once

#include <Arduino.h>

#if defined(ESP8266)
#define LOGF(format, ...) Serial.printf_P(PSTR(format), ##__VA_ARGS__)
#else
#define LOGF(format, ...) Serial.printf(format, ##__VA_ARGS__)
#endif
