/* main.c: cellctl, the command-line client of a Cell cluster. Its life:
 * read the command line, find the cell, run one command, exit with a code
 * that says how it went (0 done, 1 error, 2 wrong usage, 3 rejected). */
#include "cellctl.h"

int main(int argc, char **argv)
{
	return ctl_main(argc, argv);
}
