/* Unicode normalisation of text before it is tokenised, so that the
 * obfuscations spammers use give the same tokens as the plain words:
 *
 *   1. invisible characters are removed: soft hyphen (U+00AD), zero-width
 *      space, non-joiner and joiner (U+200B..U+200D), the direction marks
 *      and embeddings (U+200E, U+200F, U+202A..U+202E), word joiner and the
 *      invisible operators (U+2060..U+2064), U+FEFF, U+180E, U+034F;
 *   2. NFKC (GLib's g_utf8_normalize): full-width, mathematical, circled
 *      letters and ligatures become the plain letters;
 *   3. in a word that has Latin letters, Cyrillic and Greek letters that look
 *      like Latin ones (a small table, normalize.c) become those Latin
 *      letters ("pаypаl" with Cyrillic а is "paypal"); words in Cyrillic or
 *      Greek alone are left as they are.
 *
 * Case folding is the tokenizer's (ims_tokenize: ASCII lower-casing, and
 * g_utf8_casefold for words with other letters), so that all-capital words
 * keep their own token.  ASCII text is returned unchanged at once. */
#ifndef IMS_NORMALIZE_H
#define IMS_NORMALIZE_H

#include <stddef.h>

/* Normalises n bytes of UTF-8 at s (invalid sequences become U+FFFD).
 * Returns NULL when the text is already normal (s is then the result), or
 * a new NUL-terminated string (g_free) of *outn bytes.  NULL too when out
 * of memory (the text is then tokenised as it is). */
char *ims_text_normalize(const char *s, size_t n, size_t *outn);

/* The Latin letter a look-alike Cyrillic or Greek letter stands for, or 0. */
unsigned ims_confusable_latin(unsigned ch);

#endif
