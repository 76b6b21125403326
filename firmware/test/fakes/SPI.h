// Fake SPI header: the fake Ethernet library never talks SPI.
#ifndef FAKE_SPI_H
#define FAKE_SPI_H
#include "Arduino.h"
#endif
