// AWS_IOT_TEXT("..."): a string constant that stays in flash on the ESP8266.
//
// The ESP8266 keeps ordinary string constants in its ~80 KB of data RAM; the texts of
// this library (about 8 KB) would otherwise cost that much heap, which the TLS
// handshake needs. The core's newlib reads PROGMEM strings transparently in every
// *printf function (including "%s" arguments), which is the only way these texts are
// used on the board. Everywhere else (the ESP32, the host tests) it is the plain literal.
#pragma once

#if defined(ESP8266)
#include <sys/pgmspace.h>  // the toolchain's newlib, not an Arduino header
#define AWS_IOT_TEXT(literal) PSTR(literal)
#else
#define AWS_IOT_TEXT(literal) (literal)
#endif
