// The few calls Swift cannot make directly. Each function says why it is C.
#ifndef CFORKPOOL_SHIMS_H
#define CFORKPOOL_SHIMS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <time.h>

// semctl is variadic: one fixed-argument wrapper per command we use.
int fp_semctl_setval(int semid, int semnum, int value);
int fp_semctl_getval(int semid, int semnum);
int fp_semctl_getpid(int semid, int semnum);
int fp_semctl_stat(int semid, struct semid_ds *out);
int fp_semctl_rmid(int semid);

// semtimedop is declared only under _GNU_SOURCE, which Swift's Glibc module does not set.
int fp_semtimedop(int semid, struct sembuf *ops, size_t count, const struct timespec *timeout);

// The wait-status accessors are macros.
int fp_wifexited(int status);
int fp_wexitstatus(int status);
int fp_wifsignaled(int status);
int fp_wtermsig(int status);

// prctl is variadic. Asks the kernel to send `sig` to this process when its parent dies.
int fp_set_parent_death_signal(int sig);

// prctl is variadic. Makes orphaned descendants this process's children, so it reaps them (PID 1 duty).
int fp_set_child_subreaper(void);

// CPU_COUNT is a macro. The number of CPUs this process may run on (its affinity mask); 0 on error.
int fp_affinity_cpu_count(void);

// SIG_DFL and SIG_IGN are macros casting integers to function pointers.
int fp_signal_default(int sig);
int fp_signal_ignore(int sig);

// close_range is declared only under _GNU_SOURCE.
int fp_close_range(unsigned int first, unsigned int last);

// A fork for the pool's workers: _Fork (glibc 2.34), fork(2) without the atfork handlers
// and the locking of every malloc arena around it, while the process has never started a
// thread (glibc's __libc_single_threaded), so no other thread can hold a lock; else fork().
int fp_fork_worker(void);

// strerrorname_np is declared only under _GNU_SOURCE. The symbolic name of an errno
// value ("ENOENT"), or NULL when glibc knows none.
const char *fp_errno_name(int code);

// Swift has no atomic operations on raw shared memory: counters other processes add to as well.
#include <stdint.h>
void fp_atomic_add_u64(uint64_t *counter, uint64_t amount);
uint64_t fp_atomic_load_u64(const uint64_t *counter);

// The job table's change sequence (a seqlock): a writer makes it odd before it changes
// anything and even again after; a reader that saw the same even value before and after
// copying knows its copy is whole. The memory orders live here, in one place: the writer's
// odd store is fenced before its changes and the even store releases them; the reader's
// first load acquires, and a fence keeps its copy before the second load.
// A holder that died left the sequence odd: the next one keeps it odd until it is done.
void fp_seqlock_write_begin(uint64_t *sequence);
void fp_seqlock_write_end(uint64_t *sequence);
uint64_t fp_seqlock_read_begin(const uint64_t *sequence);
// Whether the copy made since fp_seqlock_read_begin gave `before` holds.
int fp_seqlock_read_valid(const uint64_t *sequence, uint64_t before);

#endif
