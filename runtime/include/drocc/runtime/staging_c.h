/*
 * The C API of libdrocc-runtime's data staging, for C (and, through ISO_C_BINDING, Fortran)
 * codes: a thin layer over StageIn and StageOut (drocc/runtime/staging.h), with the same
 * semantics; docs/staging.md describes them.
 *
 *   drocc_stage_options_t o;
 *   drocc_stage_options_init(&o, sizeof o);
 *   o.verify_retries = 3;
 *   drocc_stage_stats_t st;
 *   drocc_stage_stats_init(&st, sizeof st);
 *   if (drocc_stage_in("/shared/imagenet", "/local/%n/imagenet", &o, MPI_COMM_WORLD, &st) !=
 *       DROCC_STAGE_OK) {
 *     fprintf(stderr, "%s\n", drocc_stage_last_error());
 *     MPI_Abort(MPI_COMM_WORLD, 1);
 *   }
 *   printf("%llu bytes read from the shared filesystem\n",
 *          (unsigned long long)st.source_bytes_read);
 *
 * Status. Every function returns an int: DROCC_STAGE_OK (0) or one of the drocc_stage_status
 * codes, which are the numbers of absl::StatusCode (and equal to the DROCC_CKPT_* codes of
 * checkpoint_c.h). The message, which says what to do, is drocc_stage_last_error(): per
 * thread, set by every call of this API (to "" when it succeeds); the runtime's C APIs share
 * it, so drocc_ckpt_last_error() returns the same. No C++ exception leaves a function of this
 * API (one raised inside becomes DROCC_STAGE_INTERNAL, an allocation failure
 * DROCC_STAGE_RESOURCE_EXHAUSTED). A NULL where a path is needed is DROCC_STAGE_INVALID_ARGUMENT.
 *
 * Collective: drocc_stage_in and drocc_stage_out are called by every rank of the communicator,
 * with the same paths and options; every rank gets the same status and the same stats.
 *
 * Compatibility. The options and stats structs only ever grow at the end; the library learns
 * the caller's version of each from the size passed to drocc_stage_options_init and
 * drocc_stage_stats_init (kept in struct_size), so a program built against this header keeps
 * working with a later library: fields it does not know keep their defaults.
 *
 * Plain C99; the MPI prototypes need <mpi.h>. A serial program without MPI headers may define
 * DROCC_STAGE_NO_MPI before including this header and use the _serial functions (one rank, no
 * MPI call at all).
 */
#ifndef DROCC_RUNTIME_STAGING_C_H_
#define DROCC_RUNTIME_STAGING_C_H_

#include <stddef.h>
#include <stdint.h>

#ifndef DROCC_STAGE_NO_MPI
#include <mpi.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: the values of absl::StatusCode. Functions return them as int. */
typedef enum drocc_stage_status {
  DROCC_STAGE_OK = 0,
  DROCC_STAGE_CANCELLED = 1,
  DROCC_STAGE_UNKNOWN = 2,
  DROCC_STAGE_INVALID_ARGUMENT = 3,
  DROCC_STAGE_DEADLINE_EXCEEDED = 4,
  DROCC_STAGE_NOT_FOUND = 5,
  DROCC_STAGE_ALREADY_EXISTS = 6,
  DROCC_STAGE_PERMISSION_DENIED = 7,
  DROCC_STAGE_RESOURCE_EXHAUSTED = 8,
  DROCC_STAGE_FAILED_PRECONDITION = 9,
  DROCC_STAGE_ABORTED = 10,
  DROCC_STAGE_OUT_OF_RANGE = 11,
  DROCC_STAGE_UNIMPLEMENTED = 12,
  DROCC_STAGE_INTERNAL = 13,
  DROCC_STAGE_UNAVAILABLE = 14,
  DROCC_STAGE_DATA_LOSS = 15,
  DROCC_STAGE_UNAUTHENTICATED = 16
} drocc_stage_status;

/* The message of the calling thread's last call of the runtime's C API: "" if it succeeded.
 * Never NULL. Valid until the thread's next call; copy it to keep it. */
const char* drocc_stage_last_error(void);

/* "OK", "NOT_FOUND", ... for a status code; "UNKNOWN" for a number that is not one. */
const char* drocc_stage_status_name(int status);

/* Job-wide progress, given to on_progress on rank 0. `phase` ("stage-in" or "stage-out") is
 * valid during the call only. */
typedef struct drocc_stage_progress {
  const char* phase;
  uint64_t bytes_done;  /* bytes of files copied so far (each file counted once) */
  uint64_t bytes_total; /* bytes of the files to copy (files skipped not included) */
  uint64_t files_done;
  uint64_t files_total;
  double elapsed_seconds;
  int final; /* 1 for the last call, once everything completed */
} drocc_stage_progress_t;

/* Called on rank 0, from the calling thread, at most every progress_interval_seconds and once
 * at the end. Keep it short; it must not call this API. */
typedef void (*drocc_stage_progress_fn)(const drocc_stage_progress_t* progress, void* user_data);

/* Options of drocc_stage_in/_out. Fill it with drocc_stage_options_init first, then set the
 * fields you need; they mean what the fields of the C++ StageOptions mean (defaults in
 * brackets). Flags are int: 0 false, anything else true. Strings are copied by the call. */
typedef struct drocc_stage_options {
  size_t struct_size;    /* set by drocc_stage_options_init; do not change */
  const char* node_name; /* this rank's node; "%r" is the rank. NULL or "": $SLURMD_NODENAME,
                            else the host name [NULL] */
  uint64_t chunk_bytes;  /* size of the pieces files are read, sent and written in [1 MiB] */
  int io_threads;        /* threads per node leader reading and writing files [4] */
  int verify_retries;    /* times a copy that does not match its checksum is sent again [2] */
  int verify_existing;   /* stage-in: re-hash files already in DST [0] */
  drocc_stage_progress_fn on_progress; /* [NULL] */
  void* on_progress_user_data;         /* passed to on_progress [NULL] */
  double progress_interval_seconds;    /* at most one on_progress call per interval [2] */
  int report_to_daemon; /* report progress to droccd when droccd started the job [1] */
} drocc_stage_options_t;

/* Fills `options` with the defaults; `struct_size` is sizeof *options as the caller sees it.
 * INVALID_ARGUMENT for NULL or a size this library does not know. */
int drocc_stage_options_init(drocc_stage_options_t* options, size_t struct_size);

/* The outcome of a staging call (the C++ StageStats); the same on every rank. */
typedef struct drocc_stage_stats {
  size_t struct_size; /* set by drocc_stage_stats_init; do not change */
  int nodes;          /* node leaders */
  uint64_t files_total;
  uint64_t bytes_total;
  uint64_t files_copied;
  uint64_t bytes_copied;
  uint64_t files_skipped;
  uint64_t bytes_skipped;
  uint64_t source_bytes_read; /* job-wide bytes read from SRC */
  uint64_t retries;           /* files sent again after a checksum mismatch */
  uint64_t directories;
  uint64_t symlinks;
  double elapsed_seconds;
} drocc_stage_stats_t;

/* Zeroes `stats` and records `struct_size` (sizeof *stats as the caller sees it), which the
 * staging calls need to fill it. INVALID_ARGUMENT for NULL or a size this library does not
 * know. */
int drocc_stage_stats_init(drocc_stage_stats_t* stats, size_t struct_size);

#ifndef DROCC_STAGE_NO_MPI
/* Stage-in (see staging.h): a copy of `src` (on a filesystem every node reads) in `dst` on every
 * node ("%n" in `dst` is the node name), each byte read from `src` once. `options` NULL: the
 * defaults. `stats` NULL: not wanted; otherwise initialised by drocc_stage_stats_init and
 * filled on success. MPI must be initialised; `comm` is not kept. Collective. */
int drocc_stage_in(const char* src, const char* dst, const drocc_stage_options_t* options,
                   MPI_Comm comm, drocc_stage_stats_t* stats);
/* Stage-out (see staging.h): each node's `src` ("%n": the node name) copied, verified and only
 * then published under `dst` ("%n" too; each node must have its own). Collective. */
int drocc_stage_out(const char* src, const char* dst, const drocc_stage_options_t* options,
                    MPI_Comm comm, drocc_stage_stats_t* stats);
#endif
/* The same in a serial program: one rank, one node, no MPI call at all. */
int drocc_stage_in_serial(const char* src, const char* dst, const drocc_stage_options_t* options,
                          drocc_stage_stats_t* stats);
int drocc_stage_out_serial(const char* src, const char* dst, const drocc_stage_options_t* options,
                           drocc_stage_stats_t* stats);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DROCC_RUNTIME_STAGING_C_H_ */
