/* stage_mpi.cc in C99, through the C API (drocc/runtime/staging_c.h), for the same MPI tests
 * (stage_mpi_test.sh): the same arguments, the same JSON line, the same exit statuses.
 *
 *   stage_c_mpi in|out SRC DST [--node-name=NAME] [--pair-nodes] [--chunk-bytes=N]
 *                              [--io-threads=N] [--verify-existing]
 *
 * Every rank checks (with plain MPI) that all ranks got the same status and stats. */

#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drocc/runtime/staging_c.h"

/* The value of "--name=VALUE" in `arg`, or NULL. */
static const char* flag(const char* arg, const char* name) {
  size_t n = strlen(name);
  return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static void on_progress(const drocc_stage_progress_t* p, void* user_data) {
  (void)user_data;
  fprintf(stderr, "progress: %s %" PRIu64 "/%" PRIu64 " bytes, %" PRIu64 "/%" PRIu64 " files%s\n",
          p->phase, p->bytes_done, p->bytes_total, p->files_done, p->files_total,
          p->final ? " (final)" : "");
}

/* The stats as one JSON line (without elapsed_s, which is printed apart: rounded). */
static void json(char* out, size_t size, const char* op, const drocc_stage_stats_t* s) {
  snprintf(out, size,
           "{\"op\":\"%s\",\"nodes\":%d,\"files_total\":%" PRIu64 ",\"bytes_total\":%" PRIu64
           ",\"files_copied\":%" PRIu64 ",\"bytes_copied\":%" PRIu64 ",\"files_skipped\":%" PRIu64
           ",\"bytes_skipped\":%" PRIu64 ",\"source_bytes_read\":%" PRIu64 ",\"retries\":%" PRIu64
           ",\"directories\":%" PRIu64 ",\"symlinks\":%" PRIu64,
           op, s->nodes, s->files_total, s->bytes_total, s->files_copied, s->bytes_copied,
           s->files_skipped, s->bytes_skipped, s->source_bytes_read, s->retries, s->directories,
           s->symlinks);
}

static int run(int argc, char** argv) {
  int rank = 0, i, status, same, all_same = 0, length;
  char node[64], outcome[4096], root[4096];
  const char* v;
  drocc_stage_options_t o;
  drocc_stage_stats_t s;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc < 4 || (strcmp(argv[1], "in") != 0 && strcmp(argv[1], "out") != 0)) {
    if (rank == 0) fprintf(stderr, "usage: stage_c_mpi in|out SRC DST [options]\n");
    return 1;
  }
  if (drocc_stage_options_init(&o, sizeof o) != DROCC_STAGE_OK ||
      drocc_stage_stats_init(&s, sizeof s) != DROCC_STAGE_OK) {
    fprintf(stderr, "stage_c_mpi: %s\n", drocc_stage_last_error());
    return 1;
  }
  o.on_progress = on_progress;
  o.progress_interval_seconds = 0.2;
  for (i = 4; i < argc; ++i) {
    if ((v = flag(argv[i], "--node-name")) != NULL) {
      o.node_name = v;
    } else if (strcmp(argv[i], "--pair-nodes") == 0) {
      snprintf(node, sizeof node, "pair%d", rank / 2);
      o.node_name = node;
    } else if ((v = flag(argv[i], "--chunk-bytes")) != NULL) {
      o.chunk_bytes = strtoull(v, NULL, 10);
    } else if ((v = flag(argv[i], "--io-threads")) != NULL) {
      o.io_threads = atoi(v);
    } else if (strcmp(argv[i], "--verify-existing") == 0) {
      o.verify_existing = 1;
    } else {
      if (rank == 0) fprintf(stderr, "stage_c_mpi: unknown option %s\n", argv[i]);
      return 1;
    }
  }
  status = strcmp(argv[1], "in") == 0 ? drocc_stage_in(argv[2], argv[3], &o, MPI_COMM_WORLD, &s)
                                      : drocc_stage_out(argv[2], argv[3], &o, MPI_COMM_WORLD, &s);
  if (status == DROCC_STAGE_OK) {
    json(outcome, sizeof outcome, argv[1], &s);
  } else {
    snprintf(outcome, sizeof outcome, "%s: %s", drocc_stage_status_name(status),
             drocc_stage_last_error());
  }
  /* The outcome must be the same on every rank: compare each rank's with rank 0's. */
  length = (int)strlen(outcome) + 1;
  MPI_Bcast(&length, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rank == 0) memcpy(root, outcome, (size_t)length);
  MPI_Bcast(root, length, MPI_CHAR, 0, MPI_COMM_WORLD);
  same = strcmp(root, outcome) == 0;
  MPI_Allreduce(&same, &all_same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (rank == 0) {
    if (status == DROCC_STAGE_OK) {
      printf("%s,\"elapsed_s\":%.3f}\n", outcome, s.elapsed_seconds);
    } else {
      fprintf(stderr, "error: %s\n", outcome);
    }
  }
  if (!all_same) {
    if (!same) fprintf(stderr, "rank %d got another outcome: %s\n", rank, outcome);
    return 3;
  }
  return status == DROCC_STAGE_OK ? 0 : 2;
}

int main(int argc, char** argv) {
  int rc;
  MPI_Init(&argc, &argv);
  rc = run(argc, argv);
  MPI_Finalize();
  return rc;
}
