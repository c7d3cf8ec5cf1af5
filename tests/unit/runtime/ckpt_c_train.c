/* ckpt_train.cc in C, through the C API (drocc/runtime/checkpoint_c.h), for the same MPI tests
 * (ckpt_mpi_test.sh): same arguments, same state, same output.
 *
 *   ckpt_c_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]
 *
 * State: a distributed array x of GLOBAL_N doubles in blocks over the ranks, a replicated
 * scalar, and (CALLBACK=1) a per-rank integer behind a save/load callback. Each step
 * s = 1..UNTIL updates x[i] = x[i] * 1.0001 + f(i, s), which depends on the global index only,
 * so the result is the same for any number of ranks. Saves when s % SAVE_EVERY == 0 (0: never).
 * RESTORE=1 starts from the newest checkpoint (which must exist). At the end rank 0 writes the
 * whole state to OUT, for `cmp` against another run.
 *
 * MODE: sync (default), async, sync-local, async-local (node-local tier in DIR.local), as in
 * ckpt_train.cc; async-single asks for async under plain MPI_Init, which create must refuse;
 * serial runs one process without MPI at all (drocc_ckpt_create_serial). Rank 0 prints
 * "committed step N (R ranks, B bytes)" from on_commit, "restored step N" and "skipped: LINE"
 * for each newer checkpoint restore passed over, and checks the save counters at the end. */

#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drocc/runtime/checkpoint_c.h"

static int serial = 0;

static void fail(const char* what, const char* message) {
  fprintf(stderr, "ckpt_c_train: %s: %s\n", what, message);
  if (serial) exit(1);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

/* A call of the C API that must succeed. */
static void check(const char* what, int status) {
  if (status == DROCC_CKPT_OK) return;
  char message[4096];
  snprintf(message, sizeof message, "%s: %s", drocc_ckpt_status_name(status),
           drocc_ckpt_last_error());
  fail(what, message);
}

static void on_commit(const drocc_ckpt_commit_info_t* info, void* user_data) {
  int* commits = (int*)user_data; /* rank 0 only: no race with the application thread */
  ++*commits;
  printf("committed step %" PRId64 " (%d ranks, %" PRIu64 " bytes)\n", info->step, info->ranks,
         info->bytes);
  fflush(stdout);
}

static int save_lcg(void* user_data, drocc_ckpt_sink_t* sink) {
  return drocc_ckpt_sink_write(sink, user_data, sizeof(uint64_t));
}

static int load_lcg(void* user_data, const void* data, uint64_t bytes) {
  if (bytes != sizeof(uint64_t)) {
    drocc_ckpt_set_callback_error("lcg: wrong size");
    return DROCC_CKPT_DATA_LOSS;
  }
  memcpy(user_data, data, sizeof(uint64_t));
  return DROCC_CKPT_OK;
}

int main(int argc, char** argv) {
  const char* mode = argc > 8 ? argv[8] : "sync";
  int rank = 0, size = 1;
  serial = strcmp(mode, "serial") == 0;
  if (serial) {
    /* no MPI at all */
  } else if (strcmp(mode, "sync") == 0 || strcmp(mode, "async-single") == 0) {
    MPI_Init(&argc, &argv);
  } else {
    int provided = MPI_THREAD_SINGLE;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  }
  if (argc != 8 && argc != 9) {
    fprintf(stderr,
            "usage: ckpt_c_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]\n");
    if (serial) return 2;
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  const char* dir = argv[1];
  const uint64_t n = strtoull(argv[2], NULL, 10);
  const int64_t until = strtoll(argv[3], NULL, 10);
  const int64_t save_every = strtoll(argv[4], NULL, 10);
  const int restore = strcmp(argv[5], "1") == 0;
  const int callback = strcmp(argv[6], "1") == 0;
  const char* out = argv[7];

  if (!serial) {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
  const uint64_t base = n / (uint64_t)size, rem = n % (uint64_t)size;
  const uint64_t offset = (uint64_t)rank * base + ((uint64_t)rank < rem ? (uint64_t)rank : rem);
  const uint64_t count = base + ((uint64_t)rank < rem ? 1 : 0);

  double* x = malloc((count > 0 ? count : 1) * sizeof *x);
  for (uint64_t i = 0; i < count; ++i) x[i] = 1.0 + (double)((offset + i) % 97) / 100;
  double scale = 1.0;
  uint64_t lcg = (uint64_t)rank + 1; /* per-rank state */

  char local_dir[4096];
  snprintf(local_dir, sizeof local_dir, "%s.local", dir);
  const size_t mode_len = strlen(mode);
  int commits = 0;
  drocc_ckpt_options_t o;
  check("options", drocc_ckpt_options_init(&o, sizeof o));
  o.directory = dir;
  o.keep_last = 2;
  o.async = strncmp(mode, "async", 5) == 0;
  o.node_local_directory =
      mode_len > 6 && strcmp(mode + mode_len - 6, "-local") == 0 ? local_dir : NULL;
  o.on_commit = on_commit;
  o.on_commit_user_data = &commits;

  drocc_ckpt_t* c = NULL;
  check("create",
        serial ? drocc_ckpt_create_serial(&o, &c) : drocc_ckpt_create(&o, MPI_COMM_WORLD, &c));
  check("register", drocc_ckpt_register_replicated(c, "scale", &scale, sizeof scale));
  check("register", drocc_ckpt_register_distributed(c, "x", x, sizeof(double), n, offset, count));
  if (callback) check("register", drocc_ckpt_register_callback(c, "lcg", save_lcg, load_lcg, &lcg));

  int64_t start = 1;
  if (restore) {
    int restored = 0;
    int64_t step = -1, skipped = 0;
    check("restore", drocc_ckpt_restore(c, &restored, &step));
    if (!restored) fail("restore", "no checkpoint to restore");
    start = step + 1;
    check("skipped", drocc_ckpt_skipped_count(c, &skipped));
    if (rank == 0) {
      printf("restored step %" PRId64 "\n", step);
      for (int64_t i = 0; i < skipped; ++i) {
        const char* line = NULL;
        check("skipped", drocc_ckpt_skipped_line(c, i, &line));
        printf("skipped: %s\n", line);
      }
    }
  }
  int64_t saves = 0;
  for (int64_t s = start; s <= until; ++s) {
    for (uint64_t i = 0; i < count; ++i) {
      const uint64_t g = offset + i;
      x[i] = x[i] * 1.0001 + (double)((g * 31 + (uint64_t)s * 17) % 1000) * 1e-6;
    }
    scale = scale * 0.999 + (double)s * 1e-4;
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    if (save_every > 0 && s % save_every == 0) {
      check("save", drocc_ckpt_save(c, s));
      ++saves;
    }
  }
  /* The last save durable before anything is reported; the checkpointer gone before
   * MPI_Finalize. Every save was committed, and on_commit saw each one on rank 0. */
  check("wait", drocc_ckpt_wait(c));
  drocc_ckpt_stats_t stats;
  check("stats", drocc_ckpt_get_stats(c, &stats, sizeof stats));
  if (stats.saves_committed != saves || stats.saves_failed != 0 ||
      (rank == 0 && commits != saves)) {
    char message[256];
    snprintf(message, sizeof message,
             "%" PRId64 " saves, but %" PRId64 " committed, %" PRId64
             " failed, %d reported by on_commit",
             saves, stats.saves_committed, stats.saves_failed, commits);
    fail("stats", message);
  }
  check("destroy", drocc_ckpt_destroy(&c));

  /* Rank 0 collects x (and the per-rank lcg when registered) and writes them out. */
  double* all = x;
  uint64_t* lcgs = &lcg;
  if (!serial) {
    int* counts = calloc((size_t)size, sizeof *counts);
    int* displs = calloc((size_t)size, sizeof *displs);
    const int my_count = (int)count;
    MPI_Gather(&my_count, 1, MPI_INT, counts, 1, MPI_INT, 0, MPI_COMM_WORLD);
    for (int r = 1; r < size; ++r) displs[r] = displs[r - 1] + counts[r - 1];
    all = malloc((rank == 0 ? n : 1) * sizeof *all);
    MPI_Gatherv(x, my_count, MPI_DOUBLE, all, counts, displs, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    lcgs = malloc((size_t)size * sizeof *lcgs);
    MPI_Gather(&lcg, 1, MPI_UINT64_T, lcgs, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    free(counts);
    free(displs);
  }
  if (rank == 0) {
    FILE* f = fopen(out, "wb");
    if (f == NULL) fail(out, "cannot create the output file");
    fwrite(all, sizeof(double), n, f);
    fwrite(&scale, sizeof scale, 1, f);
    if (callback) fwrite(lcgs, sizeof(uint64_t), (size_t)size, f);
    fclose(f);
  }
  if (!serial) {
    free(all);
    free(lcgs);
    MPI_Finalize();
  }
  free(x);
  return 0;
}
