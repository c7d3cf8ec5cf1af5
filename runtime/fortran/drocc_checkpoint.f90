! Fortran interface to libdrocc-runtime's checkpoint/restart: the C API of
! drocc/runtime/checkpoint_c.h through ISO_C_BINDING (docs/runtime.md, "C and Fortran").
!
!   use drocc_checkpoint
!   type(c_ptr) :: ckpt
!   real(c_double), allocatable, target :: w(:)
!   integer(c_int64_t) :: step
!   logical :: restored
!   ierr = drocc_ckpt_create(ckpt, MPI_COMM_WORLD, "/scratch/me/run1", keep_last=3)
!                                  ! or DROCC_CKPT_SERIAL instead of a communicator: no MPI
!   if (ierr /= DROCC_CKPT_OK) then
!     print *, drocc_ckpt_error_message()
!     call MPI_Abort(MPI_COMM_WORLD, 1, ierr)
!   end if
!   ierr = drocc_ckpt_register_distributed(ckpt, "w", c_loc(w), c_sizeof(w(1)), global_n, &
!                                          my_offset, size(w, kind=c_int64_t))
!   ierr = drocc_ckpt_restore(ckpt, restored, step)
!   ...; ierr = drocc_ckpt_save(ckpt, step); ...
!   ierr = drocc_ckpt_destroy(ckpt)                ! before MPI_Finalize
!
! Every function returns integer(c_int): DROCC_CKPT_OK (0) or a DROCC_CKPT_* code, with the
! message in drocc_ckpt_error_message(). Strings are Fortran strings (trailing blanks are
! dropped). Sizes, counts, offsets and steps are integer(c_int64_t); offsets are 0-based.
! Registered data is passed as c_loc(x) of a variable with the TARGET attribute, which must
! stay allocated until drocc_ckpt_destroy. The semantics are those of the C API.
!
! Build this file with the Fortran compiler of the program (a .mod file is compiler-specific)
! and link libdrocc-runtime. In drocc's own CMake build it is the library drocc_runtime_fortran.
module drocc_checkpoint
  use, intrinsic :: iso_c_binding
  implicit none
  private

  ! Status codes (drocc_ckpt_status; the values of absl::StatusCode).
  integer(c_int), parameter, public :: DROCC_CKPT_OK = 0, DROCC_CKPT_CANCELLED = 1, &
    DROCC_CKPT_UNKNOWN = 2, DROCC_CKPT_INVALID_ARGUMENT = 3, DROCC_CKPT_DEADLINE_EXCEEDED = 4, &
    DROCC_CKPT_NOT_FOUND = 5, DROCC_CKPT_ALREADY_EXISTS = 6, DROCC_CKPT_PERMISSION_DENIED = 7, &
    DROCC_CKPT_RESOURCE_EXHAUSTED = 8, DROCC_CKPT_FAILED_PRECONDITION = 9, &
    DROCC_CKPT_ABORTED = 10, DROCC_CKPT_OUT_OF_RANGE = 11, DROCC_CKPT_UNIMPLEMENTED = 12, &
    DROCC_CKPT_INTERNAL = 13, DROCC_CKPT_UNAVAILABLE = 14, DROCC_CKPT_DATA_LOSS = 15, &
    DROCC_CKPT_UNAUTHENTICATED = 16
  ! when_busy
  integer(c_int), parameter, public :: DROCC_CKPT_WHEN_BUSY_WAIT = 0, &
    DROCC_CKPT_WHEN_BUSY_SKIP = 1
  ! The `comm` of drocc_ckpt_create for a serial program (no MPI). MPI implementations hand out
  ! non-negative Fortran handles, so it is never a communicator.
  integer, parameter, public :: DROCC_CKPT_SERIAL = -1

  ! drocc_ckpt_options_t, field for field (used inside drocc_ckpt_create*).
  type, bind(C) :: options_t
    integer(c_size_t) :: struct_size
    type(c_ptr) :: directory
    integer(c_int) :: keep_last
    integer(c_int) :: async
    integer(c_int64_t) :: async_buffer_bytes
    integer(c_int) :: when_busy
    type(c_ptr) :: node_local_directory
    type(c_funptr) :: on_commit
    type(c_ptr) :: on_commit_user_data
    integer(c_int) :: handle_signals
    integer(c_int) :: requeue_on_stop
    integer(c_int) :: report_to_daemon
    type(c_ptr) :: stop_signals
  end type options_t

  ! drocc_ckpt_commit_info_t: what on_commit receives. path: use drocc_ckpt_commit_path.
  type, bind(C), public :: drocc_ckpt_commit_info
    integer(c_int64_t) :: step
    integer(c_int64_t) :: bytes
    real(c_double) :: seconds
    type(c_ptr) :: path
    integer(c_int) :: ranks
  end type drocc_ckpt_commit_info

  ! drocc_ckpt_stats_t (drocc_ckpt_get_stats).
  type, bind(C), public :: drocc_ckpt_stats
    integer(c_size_t) :: struct_size
    integer(c_int64_t) :: saves_started
    integer(c_int64_t) :: saves_skipped
    integer(c_int64_t) :: saves_committed
    integer(c_int64_t) :: saves_failed
    integer(c_int64_t) :: last_committed_step
    integer(c_int) :: last_save_skipped
    real(c_double) :: last_stall_seconds
    integer(c_int64_t) :: buffer_bytes
  end type drocc_ckpt_stats

  ! The callbacks, to be written as bind(C) procedures with these interfaces.
  abstract interface
    ! Writes this rank's state with drocc_ckpt_sink_write(sink, ...); returns DROCC_CKPT_OK.
    function drocc_ckpt_save_fn(user_data, sink) bind(C) result(status)
      import :: c_ptr, c_int
      type(c_ptr), value :: user_data, sink
      integer(c_int) :: status
    end function drocc_ckpt_save_fn
    ! Gets back the `bytes` bytes at `data` (the library's, during the call only).
    function drocc_ckpt_load_fn(user_data, data, bytes) bind(C) result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: user_data, data
      integer(c_int64_t), value :: bytes
      integer(c_int) :: status
    end function drocc_ckpt_load_fn
    ! Rank 0, after each commit; possibly from a thread of the library (async, node-local).
    subroutine drocc_ckpt_commit_fn(info, user_data) bind(C)
      import :: drocc_ckpt_commit_info, c_ptr
      type(drocc_ckpt_commit_info), intent(in) :: info
      type(c_ptr), value :: user_data
    end subroutine drocc_ckpt_commit_fn
  end interface
  public :: drocc_ckpt_save_fn, drocc_ckpt_load_fn, drocc_ckpt_commit_fn

  ! The C functions that Fortran can call as they are.
  interface
    function drocc_ckpt_destroy(ckpt) bind(C, name="drocc_ckpt_destroy") result(status)
      import :: c_ptr, c_int
      type(c_ptr), intent(inout) :: ckpt  ! set to c_null_ptr
      integer(c_int) :: status
    end function drocc_ckpt_destroy
    function drocc_ckpt_sink_write(sink, data, bytes) bind(C, name="drocc_ckpt_sink_write") &
        result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: sink, data
      integer(c_int64_t), value :: bytes
      integer(c_int) :: status
    end function drocc_ckpt_sink_write
    function drocc_ckpt_save(ckpt, step) bind(C, name="drocc_ckpt_save") result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: ckpt
      integer(c_int64_t), value :: step
      integer(c_int) :: status
    end function drocc_ckpt_save
    function drocc_ckpt_wait(ckpt) bind(C, name="drocc_ckpt_wait") result(status)
      import :: c_ptr, c_int
      type(c_ptr), value :: ckpt
      integer(c_int) :: status
    end function drocc_ckpt_wait
    function drocc_ckpt_skipped_count(ckpt, count) bind(C, name="drocc_ckpt_skipped_count") &
        result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: ckpt
      integer(c_int64_t), intent(out) :: count
      integer(c_int) :: status
    end function drocc_ckpt_skipped_count
  end interface
  public :: drocc_ckpt_destroy, drocc_ckpt_sink_write, drocc_ckpt_save, drocc_ckpt_wait, &
    drocc_ckpt_skipped_count

  ! The C functions behind the Fortran procedures below.
  interface
    function c_options_init(options, struct_size) bind(C, name="drocc_ckpt_options_init") &
        result(status)
      import :: options_t, c_size_t, c_int
      type(options_t), intent(out) :: options
      integer(c_size_t), value :: struct_size
      integer(c_int) :: status
    end function c_options_init
    function c_create_f(options, comm, ckpt) bind(C, name="drocc_ckpt_create_f") result(status)
      import :: options_t, c_int, c_ptr
      type(options_t), intent(in) :: options
      integer(c_int), value :: comm
      type(c_ptr), intent(out) :: ckpt
      integer(c_int) :: status
    end function c_create_f
    function c_create_serial(options, ckpt) bind(C, name="drocc_ckpt_create_serial") &
        result(status)
      import :: options_t, c_int, c_ptr
      type(options_t), intent(in) :: options
      type(c_ptr), intent(out) :: ckpt
      integer(c_int) :: status
    end function c_create_serial
    function c_register_replicated(ckpt, name, data, bytes) &
        bind(C, name="drocc_ckpt_register_replicated") result(status)
      import :: c_ptr, c_char, c_int64_t, c_int
      type(c_ptr), value :: ckpt, data
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int64_t), value :: bytes
      integer(c_int) :: status
    end function c_register_replicated
    function c_register_distributed(ckpt, name, data, element_size, global_count, offset, &
        count) bind(C, name="drocc_ckpt_register_distributed") result(status)
      import :: c_ptr, c_char, c_int64_t, c_int
      type(c_ptr), value :: ckpt, data
      character(kind=c_char), intent(in) :: name(*)
      integer(c_int64_t), value :: element_size, global_count, offset, count
      integer(c_int) :: status
    end function c_register_distributed
    function c_register_callback(ckpt, name, save, load, user_data) &
        bind(C, name="drocc_ckpt_register_callback") result(status)
      import :: c_ptr, c_char, c_funptr, c_int
      type(c_ptr), value :: ckpt, user_data
      character(kind=c_char), intent(in) :: name(*)
      type(c_funptr), value :: save, load
      integer(c_int) :: status
    end function c_register_callback
    subroutine c_set_callback_error(message) bind(C, name="drocc_ckpt_set_callback_error")
      import :: c_char
      character(kind=c_char), intent(in) :: message(*)
    end subroutine c_set_callback_error
    function c_restore(ckpt, restored, step) bind(C, name="drocc_ckpt_restore") result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: ckpt
      integer(c_int), intent(out) :: restored
      integer(c_int64_t), intent(out) :: step
      integer(c_int) :: status
    end function c_restore
    function c_skipped_line(ckpt, index, line) bind(C, name="drocc_ckpt_skipped_line") &
        result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: ckpt
      integer(c_int64_t), value :: index
      type(c_ptr), intent(out) :: line
      integer(c_int) :: status
    end function c_skipped_line
    function c_should_stop(ckpt, step, stop) bind(C, name="drocc_ckpt_should_stop") &
        result(status)
      import :: c_ptr, c_int, c_int64_t
      type(c_ptr), value :: ckpt
      integer(c_int64_t), value :: step
      integer(c_int), intent(out) :: stop
      integer(c_int) :: status
    end function c_should_stop
    function c_get_stats(ckpt, stats, struct_size) bind(C, name="drocc_ckpt_get_stats") &
        result(status)
      import :: c_ptr, drocc_ckpt_stats, c_size_t, c_int
      type(c_ptr), value :: ckpt
      type(drocc_ckpt_stats), intent(out) :: stats
      integer(c_size_t), value :: struct_size
      integer(c_int) :: status
    end function c_get_stats
    function c_last_error() bind(C, name="drocc_ckpt_last_error") result(message)
      import :: c_ptr
      type(c_ptr) :: message
    end function c_last_error
    function c_status_name(status) bind(C, name="drocc_ckpt_status_name") result(name)
      import :: c_int, c_ptr
      integer(c_int), value :: status
      type(c_ptr) :: name
    end function c_status_name
    function c_strlen(s) bind(C, name="strlen") result(n)
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
      integer(c_size_t) :: n
    end function c_strlen
  end interface

  public :: drocc_ckpt_create, drocc_ckpt_register_replicated, &
    drocc_ckpt_register_distributed, drocc_ckpt_register_callback, &
    drocc_ckpt_set_callback_error, drocc_ckpt_restore, drocc_ckpt_skipped_line, &
    drocc_ckpt_should_stop, drocc_ckpt_get_stats, drocc_ckpt_error_message, &
    drocc_ckpt_status_name, drocc_ckpt_commit_path

contains

  ! Creates a checkpointer over the ranks of the Fortran communicator `comm` (MPI_COMM_WORLD of
  ! `use mpi`, or comm%MPI_VAL of `use mpi_f08`), MPI initialised; or, with
  ! comm = DROCC_CKPT_SERIAL, for a serial program (one rank, no MPI: drocc_ckpt_create_serial
  ! of the C API). Collective. The optional arguments are the options of the C API, with their
  ! defaults when absent.
  function drocc_ckpt_create(ckpt, comm, directory, keep_last, async, async_buffer_bytes, &
      when_busy, node_local_directory, handle_signals, requeue_on_stop, report_to_daemon, &
      stop_signals, on_commit, on_commit_user_data) result(status)
    type(c_ptr), intent(out) :: ckpt
    integer, intent(in) :: comm
    character(*), intent(in) :: directory
    integer, intent(in), optional :: keep_last, when_busy
    logical, intent(in), optional :: async, handle_signals, requeue_on_stop, report_to_daemon
    integer(c_int64_t), intent(in), optional :: async_buffer_bytes
    character(*), intent(in), optional :: node_local_directory, stop_signals
    procedure(drocc_ckpt_commit_fn), optional :: on_commit
    type(c_ptr), intent(in), optional :: on_commit_user_data
    integer(c_int) :: status
    type(options_t) :: o
    ! NUL-terminated copies of the strings, alive until the C call has copied them.
    character(kind=c_char), allocatable, target :: dir_c(:), local_c(:), signals_c(:)

    ckpt = c_null_ptr
    status = c_options_init(o, c_sizeof(o))
    if (status /= DROCC_CKPT_OK) return
    call to_c_string(directory, dir_c)
    o%directory = c_loc(dir_c)
    if (present(keep_last)) o%keep_last = int(keep_last, c_int)
    if (present(async)) o%async = merge(1_c_int, 0_c_int, async)
    if (present(async_buffer_bytes)) o%async_buffer_bytes = async_buffer_bytes
    if (present(when_busy)) o%when_busy = int(when_busy, c_int)
    if (present(node_local_directory)) then
      call to_c_string(node_local_directory, local_c)
      o%node_local_directory = c_loc(local_c)
    end if
    if (present(handle_signals)) o%handle_signals = merge(1_c_int, 0_c_int, handle_signals)
    if (present(requeue_on_stop)) o%requeue_on_stop = merge(1_c_int, 0_c_int, requeue_on_stop)
    if (present(report_to_daemon)) then
      o%report_to_daemon = merge(1_c_int, 0_c_int, report_to_daemon)
    end if
    if (present(stop_signals)) then
      call to_c_string(stop_signals, signals_c)
      o%stop_signals = c_loc(signals_c)
    end if
    if (present(on_commit)) o%on_commit = c_funloc(on_commit)
    if (present(on_commit_user_data)) o%on_commit_user_data = on_commit_user_data
    if (comm == DROCC_CKPT_SERIAL) then
      status = c_create_serial(o, ckpt)
    else
      status = c_create_f(o, int(comm, c_int), ckpt)
    end if
  end function drocc_ckpt_create

  ! `bytes` bytes at `data`, identical on every rank (saved from rank 0, loaded on all).
  function drocc_ckpt_register_replicated(ckpt, name, data, bytes) result(status)
    type(c_ptr), intent(in) :: ckpt, data
    character(*), intent(in) :: name
    integer(c_int64_t), intent(in) :: bytes
    integer(c_int) :: status
    status = c_register_replicated(ckpt, trim(name)//c_null_char, data, bytes)
  end function drocc_ckpt_register_replicated

  ! A 1-D array of global_count elements of element_size bytes; this rank holds the `count`
  ! elements at `data`, which are elements offset .. offset+count-1 of it, counted from 0.
  function drocc_ckpt_register_distributed(ckpt, name, data, element_size, global_count, &
      offset, count) result(status)
    type(c_ptr), intent(in) :: ckpt, data
    character(*), intent(in) :: name
    integer(c_int64_t), intent(in) :: element_size, global_count, offset, count
    integer(c_int) :: status
    status = c_register_distributed(ckpt, trim(name)//c_null_char, data, element_size, &
      global_count, offset, count)
  end function drocc_ckpt_register_distributed

  ! Per-rank state behind two bind(C) callbacks; user_data (e.g. c_loc(state)) goes to both.
  function drocc_ckpt_register_callback(ckpt, name, save, load, user_data) result(status)
    type(c_ptr), intent(in) :: ckpt, user_data
    character(*), intent(in) :: name
    procedure(drocc_ckpt_save_fn) :: save
    procedure(drocc_ckpt_load_fn) :: load
    integer(c_int) :: status
    status = c_register_callback(ckpt, trim(name)//c_null_char, c_funloc(save), c_funloc(load), &
      user_data)
  end function drocc_ckpt_register_callback

  ! From a callback about to return nonzero: the message of its failure.
  subroutine drocc_ckpt_set_callback_error(message)
    character(*), intent(in) :: message
    call c_set_callback_error(trim(message)//c_null_char)
  end subroutine drocc_ckpt_set_callback_error

  ! Loads the newest complete, verified checkpoint: restored and its step, or .false. and -1.
  function drocc_ckpt_restore(ckpt, restored, step) result(status)
    type(c_ptr), intent(in) :: ckpt
    logical, intent(out) :: restored
    integer(c_int64_t), intent(out) :: step
    integer(c_int) :: status
    integer(c_int) :: r
    status = c_restore(ckpt, r, step)
    restored = r /= 0
  end function drocc_ckpt_restore

  ! Line `index` (0-based, < drocc_ckpt_skipped_count) of the last restore's passed over.
  function drocc_ckpt_skipped_line(ckpt, index, line) result(status)
    type(c_ptr), intent(in) :: ckpt
    integer(c_int64_t), intent(in) :: index
    character(:), allocatable, intent(out) :: line
    integer(c_int) :: status
    type(c_ptr) :: p
    status = c_skipped_line(ckpt, index, p)
    line = from_c_string(p)
  end function drocc_ckpt_skipped_line

  ! The step boundary of a run that may be stopped (handle_signals): collective, every step.
  function drocc_ckpt_should_stop(ckpt, step, stop) result(status)
    type(c_ptr), intent(in) :: ckpt
    integer(c_int64_t), intent(in) :: step
    logical, intent(out) :: stop
    integer(c_int) :: status
    integer(c_int) :: s
    s = 0
    status = c_should_stop(ckpt, step, s)
    stop = s /= 0
  end function drocc_ckpt_should_stop

  ! This rank's counters.
  function drocc_ckpt_get_stats(ckpt, stats) result(status)
    type(c_ptr), intent(in) :: ckpt
    type(drocc_ckpt_stats), intent(out) :: stats
    integer(c_int) :: status
    status = c_get_stats(ckpt, stats, c_sizeof(stats))
  end function drocc_ckpt_get_stats

  ! The message of this thread's last call ("" if it succeeded).
  function drocc_ckpt_error_message() result(message)
    character(:), allocatable :: message
    message = from_c_string(c_last_error())
  end function drocc_ckpt_error_message

  ! "OK", "INVALID_ARGUMENT", ...
  function drocc_ckpt_status_name(status) result(name)
    integer(c_int), intent(in) :: status
    character(:), allocatable :: name
    name = from_c_string(c_status_name(status))
  end function drocc_ckpt_status_name

  ! The directory of the checkpoint that on_commit is told about.
  function drocc_ckpt_commit_path(info) result(path)
    type(drocc_ckpt_commit_info), intent(in) :: info
    character(:), allocatable :: path
    path = from_c_string(info%path)
  end function drocc_ckpt_commit_path

  subroutine to_c_string(s, buf)
    character(*), intent(in) :: s
    character(kind=c_char), allocatable, intent(inout) :: buf(:)
    integer :: i, n
    n = len_trim(s)
    if (allocated(buf)) deallocate(buf)
    allocate(buf(n + 1))
    do i = 1, n
      buf(i) = s(i:i)
    end do
    buf(n + 1) = c_null_char
  end subroutine to_c_string

  function from_c_string(p) result(s)
    type(c_ptr), intent(in) :: p
    character(:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate(character(n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function from_c_string

end module drocc_checkpoint
