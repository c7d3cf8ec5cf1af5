/*
 * The C API of libdrocc-runtime's checkpoint/restart, for C and (through ISO_C_BINDING and the
 * module runtime/fortran/drocc_checkpoint.f90) Fortran codes. It is a thin layer over the C++
 * Checkpointer (drocc/runtime/checkpoint.h) and has the same semantics; docs/runtime.md, "C and
 * Fortran", shows it in use.
 *
 *   drocc_ckpt_options_t o;
 *   drocc_ckpt_options_init(&o, sizeof o);
 *   o.directory = "/scratch/me/run1";
 *   drocc_ckpt_t* c = NULL;
 *   if (drocc_ckpt_create(&o, MPI_COMM_WORLD, &c) != DROCC_CKPT_OK) {
 *     fprintf(stderr, "%s\n", drocc_ckpt_last_error());
 *     MPI_Abort(MPI_COMM_WORLD, 1);
 *   }
 *   drocc_ckpt_register_distributed(c, "w", w, sizeof(double), global_n, my_offset, my_n);
 *   int restored = 0;
 *   int64_t step = -1;
 *   drocc_ckpt_restore(c, &restored, &step);
 *   for (int64_t s = restored ? step + 1 : 0; s < steps; ++s) {
 *     train(s);
 *     if (s % 100 == 0) drocc_ckpt_save(c, s);
 *   }
 *   drocc_ckpt_destroy(&c);                       // before MPI_Finalize
 *
 * Status. Every function returns an int: DROCC_CKPT_OK (0), or one of the drocc_ckpt_status
 * codes below, which are the numbers of absl::StatusCode (and of gRPC's codes). The message
 * that goes with it, which says what to do, is drocc_ckpt_last_error(): per thread, set by
 * every call of this API (to "" when the call succeeds). No C++ exception ever leaves a
 * function of this API: one raised inside becomes DROCC_CKPT_INTERNAL (or
 * DROCC_CKPT_RESOURCE_EXHAUSTED for an allocation failure) with its message. A NULL handle or
 * a NULL pointer where a value is needed is DROCC_CKPT_INVALID_ARGUMENT, never a crash.
 *
 * Collective calls (create, save, wait, restore, should_stop, destroy) are made by every rank
 * of the communicator, in the same order, with the same step; every rank gets the same status.
 * Registration is local, but every rank registers the same names, kinds and global sizes in the
 * same order. A handle is used from one thread per rank. Registered memory is not copied at
 * registration and must stay valid until drocc_ckpt_destroy.
 *
 * Compatibility. The options and stats structs only ever grow at the end. The library learns
 * which version of a struct the caller was compiled with from the size passed to
 * drocc_ckpt_options_init / drocc_ckpt_get_stats (kept in options.struct_size), so a program
 * built against this header keeps working when fields are added: fields it does not know keep
 * their defaults. New functions are added; existing signatures do not change.
 *
 * Plain C99; the MPI prototypes need <mpi.h>. A serial program without MPI headers may define
 * DROCC_CKPT_NO_MPI before including this header and use drocc_ckpt_create_serial only (it
 * still links libmpi, through libdrocc-runtime, but never needs MPI_Init).
 */
#ifndef DROCC_RUNTIME_CHECKPOINT_C_H_
#define DROCC_RUNTIME_CHECKPOINT_C_H_

#include <stddef.h>
#include <stdint.h>

#ifndef DROCC_CKPT_NO_MPI
#include <mpi.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: the values of absl::StatusCode. Functions return them as int. */
typedef enum drocc_ckpt_status {
  DROCC_CKPT_OK = 0,
  DROCC_CKPT_CANCELLED = 1,
  DROCC_CKPT_UNKNOWN = 2,
  DROCC_CKPT_INVALID_ARGUMENT = 3,
  DROCC_CKPT_DEADLINE_EXCEEDED = 4,
  DROCC_CKPT_NOT_FOUND = 5,
  DROCC_CKPT_ALREADY_EXISTS = 6,
  DROCC_CKPT_PERMISSION_DENIED = 7,
  DROCC_CKPT_RESOURCE_EXHAUSTED = 8,
  DROCC_CKPT_FAILED_PRECONDITION = 9,
  DROCC_CKPT_ABORTED = 10,
  DROCC_CKPT_OUT_OF_RANGE = 11,
  DROCC_CKPT_UNIMPLEMENTED = 12,
  DROCC_CKPT_INTERNAL = 13,
  DROCC_CKPT_UNAVAILABLE = 14,
  DROCC_CKPT_DATA_LOSS = 15,
  DROCC_CKPT_UNAUTHENTICATED = 16
} drocc_ckpt_status;

/* The message of the last call of this API made by the calling thread: "" if it succeeded.
 * Never NULL. Valid until the thread's next call of this API; copy it to keep it. */
const char* drocc_ckpt_last_error(void);

/* "OK", "INVALID_ARGUMENT", ... for a status code; "UNKNOWN" for a number that is not one.
 * A static string; does not change drocc_ckpt_last_error(). */
const char* drocc_ckpt_status_name(int status);

/* A checkpointer. Opaque; made by drocc_ckpt_create*, freed by drocc_ckpt_destroy. */
typedef struct drocc_ckpt drocc_ckpt_t;

/* What a committed checkpoint was (on_commit). `path` is valid during the call only. */
typedef struct drocc_ckpt_commit_info {
  int64_t step;
  uint64_t bytes;   /* all shards of all ranks, and the manifest */
  double seconds;   /* from the save call to the commit in `directory` */
  const char* path; /* <directory>/ckpt-<step> */
  int ranks;        /* how many ranks wrote it */
} drocc_ckpt_commit_info_t;

/* Called on rank 0 after each checkpoint has committed in `directory`, from the thread that
 * committed it: the calling thread in synchronous mode, a background thread of the library in
 * asynchronous mode or with node_local_directory. Must not call this API on that handle. */
typedef void (*drocc_ckpt_commit_fn)(const drocc_ckpt_commit_info_t* info, void* user_data);

/* options.when_busy */
enum { DROCC_CKPT_WHEN_BUSY_WAIT = 0, DROCC_CKPT_WHEN_BUSY_SKIP = 1 };

/* Options of drocc_ckpt_create*. Always fill it with drocc_ckpt_options_init first, then set
 * the fields you need; the fields mean what the fields of the same names of the C++
 * CheckpointOptions mean (defaults in brackets). Flags are int: 0 false, anything else true.
 * The strings are copied by create and need not outlive it. */
typedef struct drocc_ckpt_options {
  size_t struct_size;    /* set by drocc_ckpt_options_init; do not change */
  const char* directory; /* shared checkpoint directory, created if missing [NULL: required] */
  int keep_last;         /* keep the newest N committed checkpoints; 0 keeps all [3] */
  int async;             /* asynchronous saves (needs MPI_THREAD_MULTIPLE) [0] */
  uint64_t async_buffer_bytes; /* host buffer bound per rank; 0 sizes it to the state [0] */
  int when_busy; /* DROCC_CKPT_WHEN_BUSY_WAIT or _SKIP while a save is in flight [WAIT] */
  const char* node_local_directory; /* node-local tier, e.g. $TMPDIR/ckpt; NULL or "": none */
  drocc_ckpt_commit_fn on_commit;   /* [NULL] */
  void* on_commit_user_data;        /* passed to on_commit [NULL] */
  int handle_signals;   /* catch the stop signals; drocc_ckpt_should_stop ends the run [0] */
  int requeue_on_stop;  /* after the final checkpoint, ask for a requeue [1] */
  int report_to_daemon; /* report each commit to droccd when droccd started the job [0] */
  /* The stop signals, e.g. "USR1" or "USR1,TERM" (as DROCC_CHECKPOINT_SIGNAL, which wins over
   * this). NULL or "": SIGUSR1. [NULL] */
  const char* stop_signals;
} drocc_ckpt_options_t;

/* Fills `options` with the defaults. `struct_size` is sizeof the struct as the caller sees it
 * (pass sizeof *options; Fortran: c_sizeof(options)). INVALID_ARGUMENT for NULL or a size this
 * library does not know. */
int drocc_ckpt_options_init(drocc_ckpt_options_t* options, size_t struct_size);

#ifndef DROCC_CKPT_NO_MPI
/* Creates a checkpointer over the ranks of `comm`, which is not owned and must stay valid
 * until drocc_ckpt_destroy. MPI must be initialised (with MPI_THREAD_MULTIPLE for async or
 * node_local_directory). Collective. On success *out is the handle; on failure *out is NULL. */
int drocc_ckpt_create(const drocc_ckpt_options_t* options, MPI_Comm comm, drocc_ckpt_t** out);
/* The same with a Fortran communicator handle (MPI_COMM_WORLD of `use mpi`, or the MPI_VAL of
 * a `use mpi_f08` type(MPI_Comm)), converted with MPI_Comm_f2c. */
int drocc_ckpt_create_f(const drocc_ckpt_options_t* options, MPI_Fint comm, drocc_ckpt_t** out);
#endif
/* A checkpointer for a serial program: one rank, no MPI calls at all (MPI_Init not needed). */
int drocc_ckpt_create_serial(const drocc_ckpt_options_t* options, drocc_ckpt_t** out);

/* Destroys *c (which may be NULL) and sets *c to NULL. Waits for a save in flight first (a
 * failure nobody was told about is logged to stderr: call drocc_ckpt_wait first to get it).
 * Collective, and before MPI_Finalize. */
int drocc_ckpt_destroy(drocc_ckpt_t** c);

/* `bytes` bytes at `data`, identical on every rank: saved once (from rank 0), loaded on all. */
int drocc_ckpt_register_replicated(drocc_ckpt_t* c, const char* name, void* data, uint64_t bytes);

/* A 1-D array of `global_count` elements of `element_size` bytes, of which this rank holds
 * elements [offset, offset + count) at `data` (0-based). The slices of all ranks must tile the
 * array exactly. Restores onto any number of ranks and any slicing. */
int drocc_ckpt_register_distributed(drocc_ckpt_t* c, const char* name, void* data,
                                    uint64_t element_size, uint64_t global_count, uint64_t offset,
                                    uint64_t count);

/* Where a save callback writes its bytes. Owned by the library; valid only during the call. */
typedef struct drocc_ckpt_sink drocc_ckpt_sink_t;

/* Appends `bytes` bytes at `data` to what the save callback saves (copied at once). Call it as
 * often as needed, only from inside the save callback that got `sink`. */
int drocc_ckpt_sink_write(drocc_ckpt_sink_t* sink, const void* data, uint64_t bytes);

/* A save callback writes this rank's state to `sink` and returns 0, or returns a nonzero
 * status (a drocc_ckpt_status code; other numbers count as DROCC_CKPT_UNKNOWN) to fail the
 * save, ideally after drocc_ckpt_set_callback_error. Called during drocc_ckpt_save (also the
 * final save of drocc_ckpt_should_stop) on the calling thread, in every mode. */
typedef int (*drocc_ckpt_save_fn)(void* user_data, drocc_ckpt_sink_t* sink);
/* A load callback gets back exactly the bytes its save callback wrote on this rank (`data` is
 * the library's, valid during the call only; NULL when `bytes` is 0) and returns 0, or a
 * nonzero status: that checkpoint is then passed over and an older one tried. Called during
 * drocc_ckpt_restore, on the calling thread. */
typedef int (*drocc_ckpt_load_fn)(void* user_data, const void* data, uint64_t bytes);

/* Per-rank state behind two callbacks. `user_data` is passed to both and is not owned.
 * Restoring it needs the same number of ranks as when it was saved. */
int drocc_ckpt_register_callback(drocc_ckpt_t* c, const char* name, drocc_ckpt_save_fn save,
                                 drocc_ckpt_load_fn load, void* user_data);

/* From inside a save or load callback that is about to return nonzero: the message of the
 * failure (copied), which becomes part of the save's error or of the reason the checkpoint was
 * passed over. Elsewhere it has no effect. Never fails; NULL is treated as "". */
void drocc_ckpt_set_callback_error(const char* message);

/* Writes a checkpoint of every rank's registered state as step `step` (>= 0). Synchronous by
 * default: returns once it is committed. See the C++ Checkpointer::Save for the asynchronous
 * mode, the node-local tier and when_busy. Collective. */
int drocc_ckpt_save(drocc_ckpt_t* c, int64_t step);

/* Waits until no save is in flight and returns the outcome of a background save that failed
 * and was not yet returned (OK otherwise). Collective. */
int drocc_ckpt_wait(drocc_ckpt_t* c);

/* Loads the newest complete and verified checkpoint into the registered state, passing over
 * any newer incomplete or corrupt one. *restored is 1 and *step its step, or *restored is 0
 * and *step -1 when there is none (state untouched; not an error). An error status means a
 * problem that falling back would not fix (unreadable directory, registered state that does
 * not match what was saved). Collective. */
int drocc_ckpt_restore(drocc_ckpt_t* c, int* restored, int64_t* step);

/* The newer checkpoints the last drocc_ckpt_restore passed over, newest first, one line each
 * with the reason (also logged to stderr by rank 0). The line stays valid until the next
 * restore or destroy. OUT_OF_RANGE for an index outside [0, count). */
int drocc_ckpt_skipped_count(const drocc_ckpt_t* c, int64_t* count);
int drocc_ckpt_skipped_line(const drocc_ckpt_t* c, int64_t index, const char** line);

/* The step boundary of a run that may be stopped (options.handle_signals), called by every
 * rank after each step with the step just completed:
 *   if (drocc_ckpt_should_stop(c, step, &stop) != DROCC_CKPT_OK || stop) break;
 * *stop becomes 1 on every rank at the same step once a stop signal reached any rank, the
 * final checkpoint committed and (requeue_on_stop) the requeue was asked for. Always 0 without
 * handle_signals. Collective. */
int drocc_ckpt_should_stop(drocc_ckpt_t* c, int64_t step, int* stop);

/* This rank's counters (the C++ CheckpointStats). */
typedef struct drocc_ckpt_stats {
  size_t struct_size; /* set by drocc_ckpt_get_stats */
  int64_t saves_started;
  int64_t saves_skipped;
  int64_t saves_committed;
  int64_t saves_failed;
  int64_t last_committed_step; /* -1: none yet */
  int last_save_skipped;
  double last_stall_seconds;
  uint64_t buffer_bytes;
} drocc_ckpt_stats_t;

/* Fills `stats`; `struct_size` is sizeof *stats as the caller sees it. Local, cheap. */
int drocc_ckpt_get_stats(const drocc_ckpt_t* c, drocc_ckpt_stats_t* stats, size_t struct_size);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* DROCC_RUNTIME_CHECKPOINT_C_H_ */
