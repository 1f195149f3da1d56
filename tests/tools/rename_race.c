/*
 * rename_race — an LD_PRELOAD shim for tests/system/purge_video_race.sh: the
 * racing renamer, placed in the one window that matters.  The first time
 * the process is about to unlink or rename the entry named $RACE_VICTIM, the
 * shim first renames $RACE_FRESH (a new file in the same directory) over
 * that name, as a recorder finishing a file would, and only then lets the
 * call go on.  Code that removes by name without checking what the name now
 * holds deletes the fresh file.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int race_done;

static void race_maybe(int dirfd, const char *name)
{
	const char *victim = getenv("RACE_VICTIM");
	const char *fresh = getenv("RACE_FRESH");

	if (race_done || victim == NULL || fresh == NULL || strcmp(name, victim) != 0)
		return;
	race_done = 1;
	if (renameat(AT_FDCWD, fresh, dirfd, name) != 0)
		perror("rename_race: renameat");
}

int unlinkat(int dirfd, const char *name, int flags)
{
	int (*real)(int, const char *, int) =
		(int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");

	race_maybe(dirfd, name);
	return real(dirfd, name, flags);
}

int renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname, unsigned flags)
{
	int (*real)(int, const char *, int, const char *, unsigned) =
		(int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");

	race_maybe(olddirfd, oldname);
	return real(olddirfd, oldname, newdirfd, newname, flags);
}
