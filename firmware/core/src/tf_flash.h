/*
 * Where constant tables live. On AVR, data in plain `const` arrays is copied to SRAM at start-up;
 * the Uno has only 2 KB of it, so the core's tables go to flash (PROGMEM) and are read byte by byte.
 * Elsewhere they are ordinary constants. avr-libc's pgmspace is not an Arduino header.
 */
#ifndef TF_FLASH_H
#define TF_FLASH_H

#if defined(__AVR__)
#include <avr/pgmspace.h>
#define TF_FLASH PROGMEM
#define tf_flash_byte(p) ((char)pgm_read_byte(p))
#define tf_flash_u32(p) ((uint32_t)pgm_read_dword(p))
#else
#define TF_FLASH
#define tf_flash_byte(p) (*(const char *)(p))
#define tf_flash_u32(p) (*(const uint32_t *)(p))
#endif

#endif
