! ckpt_train.cc in Fortran, through the module drocc_checkpoint (the C API), for the same MPI
! tests (ckpt_mpi_test.sh): same arguments, same kinds of state, the same lines on stdout.
!
!   ckpt_f_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]
!
! State: a distributed array x of GLOBAL_N doubles in blocks over the ranks, a replicated
! scalar, and (CALLBACK=1) a per-rank integer behind save/load callbacks. Each step updates x
! from the global index only, so the result is the same for any number of ranks. The per-rank
! integer follows MINSTD (the 64-bit LCG of ckpt_train would overflow a Fortran integer), so
! OUT matches other runs of this program, not those of ckpt_train. MODE as in ckpt_c_train.c
! (sync, async, sync-local, async-local, async-single, serial). Rank 0 prints "committed step N
! (R ranks, B bytes)" from on_commit (and checks the path it is given), "restored step N" and
! "skipped: LINE", and checks the save counters at the end.

module ckpt_f_train_callbacks
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: output_unit
  use drocc_checkpoint
  implicit none
  character(len=4096) :: directory = ""
  integer(c_int), target :: commits = 0   ! rank 0: commits seen by on_commit
  integer(c_int), target :: bad_paths = 0 ! ... of which with an unexpected path

contains

  function save_lcg(user_data, sink) bind(C) result(status)
    type(c_ptr), value :: user_data, sink
    integer(c_int) :: status
    status = drocc_ckpt_sink_write(sink, user_data, 8_c_int64_t)
  end function save_lcg

  function load_lcg(user_data, data, bytes) bind(C) result(status)
    type(c_ptr), value :: user_data, data
    integer(c_int64_t), value :: bytes
    integer(c_int) :: status
    integer(c_int64_t), pointer :: lcg
    character(kind=c_char), pointer :: saved(:)
    if (bytes /= 8) then
      call drocc_ckpt_set_callback_error("lcg: wrong size")
      status = DROCC_CKPT_DATA_LOSS
      return
    end if
    call c_f_pointer(user_data, lcg)
    call c_f_pointer(data, saved, [8])  ! the library's bytes need not be aligned
    lcg = transfer(saved, lcg)
    status = DROCC_CKPT_OK
  end function load_lcg

  subroutine on_commit(info, user_data) bind(C)
    type(drocc_ckpt_commit_info), intent(in) :: info
    type(c_ptr), value :: user_data
    integer(c_int), pointer :: count
    character(len=17) :: name
    call c_f_pointer(user_data, count)
    count = count + 1
    write(name, '(a,i12.12)') 'ckpt-', info%step
    if (drocc_ckpt_commit_path(info) /= trim(directory)//'/'//name) bad_paths = bad_paths + 1
    write(output_unit, '(a,i0,a,i0,a,i0,a)') 'committed step ', info%step, ' (', info%ranks, &
      ' ranks, ', info%bytes, ' bytes)'
    flush(output_unit)
  end subroutine on_commit

end module ckpt_f_train_callbacks

program ckpt_f_train
  use, intrinsic :: iso_c_binding
  use, intrinsic :: iso_fortran_env, only: error_unit, output_unit
  use mpi
  use drocc_checkpoint
  use ckpt_f_train_callbacks
  implicit none
  character(len=4096) :: out, mode, arg
  integer(c_int64_t) :: n, until, save_every, s, i, g, base, rem, offset, count, start, step
  integer(c_int64_t) :: nskipped, saves
  logical :: restore, callback, serial, restored
  integer :: rank, nranks, ierr, provided, r, u, comm
  real(c_double), allocatable, target :: x(:)
  real(c_double), allocatable :: all(:)
  real(c_double), target :: scale
  integer(c_int64_t), target :: lcg
  integer(c_int64_t), allocatable :: lcgs(:)
  integer, allocatable :: counts(:), displs(:)
  character(:), allocatable :: line, local_dir
  type(c_ptr) :: ckpt
  type(drocc_ckpt_stats) :: stats

  mode = "sync"
  if (command_argument_count() >= 8) call get_command_argument(8, mode)
  serial = mode == "serial"
  rank = 0
  nranks = 1
  if (mode == "sync" .or. mode == "async-single") then
    call MPI_Init(ierr)
  else if (.not. serial) then
    call MPI_Init_thread(MPI_THREAD_MULTIPLE, provided, ierr)
  end if
  if (command_argument_count() /= 7 .and. command_argument_count() /= 8) then
    call fail("usage", "ckpt_f_train DIR GLOBAL_N UNTIL SAVE_EVERY RESTORE CALLBACK OUT [MODE]")
  end if
  call get_command_argument(1, directory)
  call get_command_argument(2, arg)
  read(arg, *) n
  call get_command_argument(3, arg)
  read(arg, *) until
  call get_command_argument(4, arg)
  read(arg, *) save_every
  call get_command_argument(5, arg)
  restore = arg == "1"
  call get_command_argument(6, arg)
  callback = arg == "1"
  call get_command_argument(7, out)

  if (.not. serial) then
    call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
    call MPI_Comm_size(MPI_COMM_WORLD, nranks, ierr)
  end if
  base = n / nranks
  rem = mod(n, int(nranks, c_int64_t))
  offset = rank * base + min(int(rank, c_int64_t), rem)
  count = base
  if (rank < rem) count = count + 1

  allocate(x(count))
  do i = 1, count
    x(i) = 1.0_c_double + real(mod(offset + i - 1, 97_c_int64_t), c_double) / 100
  end do
  scale = 1.0_c_double
  lcg = rank + 1  ! per-rank state

  local_dir = ""
  if (index(mode, "-local") > 0) local_dir = trim(directory)//".local"
  comm = MPI_COMM_WORLD
  if (serial) comm = DROCC_CKPT_SERIAL
  call check("create", drocc_ckpt_create(ckpt, comm, directory, keep_last=2, &
    async=index(mode, "async") == 1, node_local_directory=local_dir, on_commit=on_commit, &
    on_commit_user_data=c_loc(commits)))
  call check("register", drocc_ckpt_register_replicated(ckpt, "scale", c_loc(scale), &
    c_sizeof(scale)))
  call check("register", drocc_ckpt_register_distributed(ckpt, "x", c_loc(x), &
    c_sizeof(scale), n, offset, count))
  if (callback) then
    call check("register", drocc_ckpt_register_callback(ckpt, "lcg", save_lcg, load_lcg, &
      c_loc(lcg)))
  end if

  start = 1
  if (restore) then
    call check("restore", drocc_ckpt_restore(ckpt, restored, step))
    if (.not. restored) call fail("restore", "no checkpoint to restore")
    start = step + 1
    call check("skipped", drocc_ckpt_skipped_count(ckpt, nskipped))
    if (rank == 0) then
      write(output_unit, '(a,i0)') 'restored step ', step
      do i = 0, nskipped - 1
        call check("skipped", drocc_ckpt_skipped_line(ckpt, i, line))
        write(output_unit, '(a,a)') 'skipped: ', line
      end do
      flush(output_unit)
    end if
  end if
  saves = 0
  do s = start, until
    do i = 1, count
      g = offset + i - 1
      x(i) = x(i) * 1.0001_c_double + &
        real(mod(g * 31 + s * 17, 1000_c_int64_t), c_double) * 1e-6_c_double
    end do
    scale = scale * 0.999_c_double + real(s, c_double) * 1e-4_c_double
    lcg = mod(lcg * 48271_c_int64_t, 2147483647_c_int64_t)
    if (save_every > 0) then
      if (mod(s, save_every) == 0) then
        call check("save", drocc_ckpt_save(ckpt, s))
        saves = saves + 1
      end if
    end if
  end do
  ! The last save durable before anything is reported; the checkpointer gone before
  ! MPI_Finalize. Every save committed, and on_commit saw each one, with its path, on rank 0.
  call check("wait", drocc_ckpt_wait(ckpt))
  call check("stats", drocc_ckpt_get_stats(ckpt, stats))
  if (stats%saves_committed /= saves .or. stats%saves_failed /= 0 .or. &
      (rank == 0 .and. (commits /= saves .or. bad_paths /= 0))) then
    write(error_unit, '(i0,a,i0,a,i0,a,i0,a,i0,a)') saves, ' saves, but ', &
      stats%saves_committed, ' committed, ', stats%saves_failed, ' failed, ', commits, &
      ' reported by on_commit, ', bad_paths, ' with a wrong path'
    call fail("stats", "the counters do not match")
  end if
  ! The options reached the library field by field: asynchronous saves use a host buffer.
  if (index(mode, "async") == 1 .and. saves > 0 .and. stats%buffer_bytes == 0) then
    call fail("stats", "async was asked for, but no host buffer was allocated")
  end if
  call check("destroy", drocc_ckpt_destroy(ckpt))
  if (c_associated(ckpt)) call fail("destroy", "the handle was not reset")

  ! Rank 0 collects x (and the per-rank lcg when registered) and writes them out.
  if (serial) then
    allocate(all(n), lcgs(1))
    all(:) = x
    lcgs(1) = lcg
  else
    allocate(counts(nranks), displs(nranks), lcgs(nranks))
    allocate(all(merge(n, 1_c_int64_t, rank == 0)))
    call MPI_Gather(int(count), 1, MPI_INTEGER, counts, 1, MPI_INTEGER, 0, MPI_COMM_WORLD, ierr)
    displs(:) = 0  ! counts and displs matter on rank 0 only, where MPI_Gather filled counts
    if (rank == 0) then
      do r = 2, nranks
        displs(r) = displs(r - 1) + counts(r - 1)
      end do
    end if
    call MPI_Gatherv(x, int(count), MPI_DOUBLE_PRECISION, all, counts, displs, &
      MPI_DOUBLE_PRECISION, 0, MPI_COMM_WORLD, ierr)
    call MPI_Gather(lcg, 1, MPI_INTEGER8, lcgs, 1, MPI_INTEGER8, 0, MPI_COMM_WORLD, ierr)
  end if
  if (rank == 0) then
    open(newunit=u, file=trim(out), access="stream", form="unformatted", status="replace")
    write(u) all(1:n), scale
    if (callback) write(u) lcgs
    close(u)
  end if
  if (.not. serial) call MPI_Finalize(ierr)
  ! Variables of a main program live until the end (they are SAVEd): free them for LSan.
  deallocate(x, all, lcgs, local_dir)
  if (allocated(counts)) deallocate(counts, displs)
  if (allocated(line)) deallocate(line)

contains

  ! A call of the C API that must succeed.
  subroutine check(what, status)
    character(*), intent(in) :: what
    integer(c_int), intent(in) :: status
    if (status /= DROCC_CKPT_OK) then
      call fail(what, drocc_ckpt_status_name(status)//": "//drocc_ckpt_error_message())
    end if
  end subroutine check

  subroutine fail(what, message)
    character(*), intent(in) :: what, message
    integer :: e
    write(error_unit, '(a,a,a,a)') 'ckpt_f_train: ', what, ': ', message
    flush(error_unit)
    if (serial) error stop 1
    call MPI_Abort(MPI_COMM_WORLD, 1, e)
  end subroutine fail

end program ckpt_f_train
