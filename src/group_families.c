#include "group_families.h"

const struct pg_family pg_families[PG_FAMILIES] = {
    {"kobs_group_cpu_seconds",
     "kobs_process_cpu_seconds",
     "kobs_thread_cpu_seconds",
     "seconds",
     "CPU time spent in user and kernel mode",
     PG_SCALE_NS,
     false,
     2,
     {{{"mode"}, {"user"}, PGC_CPU_USER}, {{"mode"}, {"system"}, PGC_CPU_SYSTEM}}},
    {"kobs_group_context_switches",
     "kobs_process_context_switches",
     "kobs_thread_context_switches",
     NULL,
     "Context switches, voluntary (it blocked) and involuntary (it was preempted)",
     PG_SCALE_ONE,
     true,
     2,
     {{{"type"}, {"voluntary"}, PGC_CTXT_VOLUNTARY},
      {{"type"}, {"involuntary"}, PGC_CTXT_INVOLUNTARY}}},
    {"kobs_group_page_faults",
     "kobs_process_page_faults",
     "kobs_thread_page_faults",
     NULL,
     "Page faults: major (served from storage) and minor",
     PG_SCALE_ONE,
     false,
     2,
     {{{"type"}, {"major"}, PGC_FAULTS_MAJOR}, {{"type"}, {"minor"}, PGC_FAULTS_MINOR}}},
    {"kobs_group_io_bytes",
     "kobs_process_io_bytes",
     "kobs_thread_io_bytes",
     "bytes",
     "Bytes read and written: layer=\"storage\" went to or came from the block layer "
     "(read_bytes, write_bytes), layer=\"syscall\" passed through read and write system calls, "
     "page cache hits included (rchar, wchar)",
     PG_SCALE_ONE,
     false,
     4,
     {{{"op", "layer"}, {"read", "storage"}, PGC_IO_READ_BYTES},
      {{"op", "layer"}, {"write", "storage"}, PGC_IO_WRITE_BYTES},
      {{"op", "layer"}, {"read", "syscall"}, PGC_IO_RCHAR},
      {{"op", "layer"}, {"write", "syscall"}, PGC_IO_WCHAR}}},
    {"kobs_group_io_syscalls",
     "kobs_process_io_syscalls",
     "kobs_thread_io_syscalls",
     NULL,
     "Read and write system calls (syscr, syscw)",
     PG_SCALE_ONE,
     false,
     2,
     {{{"op"}, {"read"}, PGC_IO_SYSCR}, {{"op"}, {"write"}, PGC_IO_SYSCW}}},
    {"kobs_group_runqueue_wait_seconds",
     "kobs_process_runqueue_wait_seconds",
     "kobs_thread_runqueue_wait_seconds",
     "seconds",
     "Time spent runnable but waiting for a CPU (schedstat)",
     PG_SCALE_NS,
     true,
     1,
     {{{NULL}, {NULL}, PGC_RUNQUEUE_WAIT}}},
};

double pgf_scaled(enum pg_scale scale, uint64_t v)
{
	return scale == PG_SCALE_NS ? (double)v / 1e9 : (double)v;
}

bool pgf_is_io(const struct pg_family *f)
{
	return f->series[0].counter >= PGC_IO_FIRST;
}

size_t pgf_labels(struct label *labels, size_t nfixed, const struct pg_series *s)
{
	size_t n = nfixed;
	for (int i = 0; i < 2 && s->label[i]; i++)
		labels[n++] = (struct label){s->label[i], s->value[i]};
	return n;
}
