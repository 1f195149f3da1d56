/*
 * The reader's spool module, compiled into the reader benchmark so that it
 * measures the very code sac-reader runs (the files of bench/reader/ are linked in).
 */
#include "../../reader/spool.c"
