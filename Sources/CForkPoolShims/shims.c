#define _GNU_SOURCE
#include "CForkPoolShims.h"

#include <sched.h>
#include <sys/single_threaded.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int fp_semctl_setval(int semid, int semnum, int value) { return semctl(semid, semnum, SETVAL, value); }
int fp_semctl_getval(int semid, int semnum) { return semctl(semid, semnum, GETVAL); }
int fp_semctl_getpid(int semid, int semnum) { return semctl(semid, semnum, GETPID); }
int fp_semctl_stat(int semid, struct semid_ds *out) { return semctl(semid, 0, IPC_STAT, out); }
int fp_semctl_rmid(int semid) { return semctl(semid, 0, IPC_RMID); }

int fp_semtimedop(int semid, struct sembuf *ops, size_t count, const struct timespec *timeout) {
    return semtimedop(semid, ops, count, timeout);
}

int fp_fork_worker(void) { return __libc_single_threaded ? _Fork() : fork(); }

int fp_wifexited(int status) { return WIFEXITED(status); }
int fp_wexitstatus(int status) { return WEXITSTATUS(status); }
int fp_wifsignaled(int status) { return WIFSIGNALED(status); }
int fp_wtermsig(int status) { return WTERMSIG(status); }

int fp_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }

int fp_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

int fp_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) != 0) return 0;
    return CPU_COUNT(&set);
}

int fp_signal_default(int sig) { return signal(sig, SIG_DFL) == SIG_ERR ? -1 : 0; }
int fp_signal_ignore(int sig) { return signal(sig, SIG_IGN) == SIG_ERR ? -1 : 0; }

int fp_close_range(unsigned int first, unsigned int last) { return close_range(first, last, 0); }

#include <string.h>

const char *fp_errno_name(int code) { return strerrorname_np(code); }

void fp_atomic_add_u64(uint64_t *counter, uint64_t amount) { __atomic_fetch_add(counter, amount, __ATOMIC_RELAXED); }
uint64_t fp_atomic_load_u64(const uint64_t *counter) { return __atomic_load_n(counter, __ATOMIC_RELAXED); }

void fp_seqlock_write_begin(uint64_t *sequence) {
    uint64_t value = __atomic_load_n(sequence, __ATOMIC_RELAXED);
    if ((value & 1) == 0) __atomic_store_n(sequence, value + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);  // the odd value before any change
}

void fp_seqlock_write_end(uint64_t *sequence) {
    uint64_t value = __atomic_load_n(sequence, __ATOMIC_RELAXED);
    __atomic_store_n(sequence, value + 1, __ATOMIC_RELEASE);  // every change before the even value
}

uint64_t fp_seqlock_read_begin(const uint64_t *sequence) { return __atomic_load_n(sequence, __ATOMIC_ACQUIRE); }

int fp_seqlock_read_valid(const uint64_t *sequence, uint64_t before) {
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the copy before the second look
    return (before & 1) == 0 && __atomic_load_n(sequence, __ATOMIC_RELAXED) == before;
}
