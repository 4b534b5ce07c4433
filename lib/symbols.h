/* The named symbols that checks emit, with their default weights.
 *
 * A symbol's weight comes from [scores] in ims.conf (same name as the
 * symbol); the score of a message is the sum of the weights of the symbols
 * it got (SVM_SPAM and SVM_HAM follow the classifier's log-odds, within those
 * weights: lib/scan.c).  The
 * table is the one list of names: the config parser, the sample config,
 * docs/configuration.md and the scan log all read it. */
#ifndef IMS_SYMBOLS_H
#define IMS_SYMBOLS_H

struct ims_symbol_def {
	const char *name;
	double weight; /* default weight */
	const char *doc;
};

/* The table, terminated by an entry with name == NULL. */
extern const struct ims_symbol_def ims_symbols[];

/* Number of symbols in the table. */
int ims_symbol_count(void);

/* Index of name in ims_symbols, or -1.  Case-sensitive (names are upper case). */
int ims_symbol_find(const char *name);

#endif
