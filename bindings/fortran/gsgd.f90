!> Fortran bindings of gsgd (include/gsgd.h): bind(C) interfaces through
!> ISO_C_BINDING only, so any Fortran 2008 compiler can use them.
!>
!> Conventions, mirroring the C API:
!>  - handles (context, dataset, model, options, trainer, optimizer) are
!>    type(c_ptr); create calls fill them, free calls take them by value.
!>  - every function returns an integer(c_int) status (GSGD_STATUS_OK = 0);
!>    gsgd_error(ctx) gives the detail of the last failure as a string.
!>  - enums are integer(c_int) parameters with the C values.
!>  - strings going in must end in NUL: pass gsgd_cstr('softmax').
!>    Strings coming out are C pointers: gsgd_fstr() copies them.
!>  - size_t is integer(c_size_t), uint64_t is integer(c_int64_t).
!>  - a Fortran array X(d, n) (features of one sample contiguous) has the
!>    memory layout of C's row-major n x d, so host data is passed as is.
!>  - buffers that may live on a GPU (model parameters, optimizer_step) are
!>    type(c_ptr): c_loc(host_array) on the CPU backend, a device pointer
!>    on CUDA.
module gsgd
  use, intrinsic :: iso_c_binding
  implicit none

  integer(c_int), parameter :: GSGD_VERSION_MAJOR = 0
  integer(c_int), parameter :: GSGD_VERSION_MINOR = 1
  integer(c_int), parameter :: GSGD_VERSION_PATCH = 0

  ! gsgd_status (pinned values: 1-99 caller, 100-199 data/IO, 200-299 device)
  integer(c_int), parameter :: GSGD_STATUS_OK = 0
  integer(c_int), parameter :: GSGD_STATUS_INVALID_ARGUMENT = 1
  integer(c_int), parameter :: GSGD_STATUS_OUT_OF_RANGE = 2
  integer(c_int), parameter :: GSGD_STATUS_UNSUPPORTED = 3
  integer(c_int), parameter :: GSGD_STATUS_SHAPE_MISMATCH = 4
  integer(c_int), parameter :: GSGD_STATUS_OUT_OF_MEMORY = 5
  integer(c_int), parameter :: GSGD_STATUS_DIVERGED = 6
  integer(c_int), parameter :: GSGD_STATUS_INTERRUPTED = 7
  integer(c_int), parameter :: GSGD_STATUS_IO = 100
  integer(c_int), parameter :: GSGD_STATUS_BAD_FORMAT = 101
  integer(c_int), parameter :: GSGD_STATUS_BAD_VALUE = 102
  integer(c_int), parameter :: GSGD_STATUS_TOO_LARGE = 103
  integer(c_int), parameter :: GSGD_STATUS_WRITE_FAILED = 104
  integer(c_int), parameter :: GSGD_STATUS_NO_DEVICE = 200
  integer(c_int), parameter :: GSGD_STATUS_DEVICE_ERROR = 201
  integer(c_int), parameter :: GSGD_STATUS_DEVICE_OUT_OF_MEMORY = 202
  integer(c_int), parameter :: GSGD_STATUS_INTERNAL = 999

  ! gsgd_device
  integer(c_int), parameter :: GSGD_DEVICE_AUTO = 0
  integer(c_int), parameter :: GSGD_DEVICE_CPU = 1
  integer(c_int), parameter :: GSGD_DEVICE_CUDA = 2

  ! gsgd_log_level
  integer(c_int), parameter :: GSGD_LOG_INFO = 0
  integer(c_int), parameter :: GSGD_LOG_WARNING = 1

  ! gsgd_optim
  integer(c_int), parameter :: GSGD_INDEX_INT32 = 0
  integer(c_int), parameter :: GSGD_INDEX_INT64 = 1
  integer(c_int), parameter :: GSGD_OPTIM_SGD = 0
  integer(c_int), parameter :: GSGD_OPTIM_MOMENTUM = 1
  integer(c_int), parameter :: GSGD_OPTIM_NESTEROV = 2
  integer(c_int), parameter :: GSGD_OPTIM_ADAM = 3
  integer(c_int), parameter :: GSGD_OPTIM_ADAMW = 4
  integer(c_int), parameter :: GSGD_OPTIM_ADAGRAD = 5
  integer(c_int), parameter :: GSGD_OPTIM_RMSPROP = 6
  integer(c_int), parameter :: GSGD_OPTIM_LARS = 7
  integer(c_int), parameter :: GSGD_OPTIM_LAMB = 8

  ! gsgd_param
  integer(c_int), parameter :: GSGD_LR = 0
  integer(c_int), parameter :: GSGD_MOMENTUM = 1
  integer(c_int), parameter :: GSGD_WEIGHT_DECAY = 2
  integer(c_int), parameter :: GSGD_OPTIMIZER = 3
  integer(c_int), parameter :: GSGD_BATCH = 4
  integer(c_int), parameter :: GSGD_EPOCHS = 5
  integer(c_int), parameter :: GSGD_SEED = 6
  integer(c_int), parameter :: GSGD_LR_STEP = 7
  integer(c_int), parameter :: GSGD_LR_GAMMA = 8
  integer(c_int), parameter :: GSGD_TARGET_ACC = 9
  integer(c_int), parameter :: GSGD_CHECK_EVERY = 10
  integer(c_int), parameter :: GSGD_BATCH_POLICY = 11
  integer(c_int), parameter :: GSGD_MAX_BATCH = 12
  integer(c_int), parameter :: GSGD_MEM_LIMIT = 13
  integer(c_int), parameter :: GSGD_MEM_FRACTION = 14
  integer(c_int), parameter :: GSGD_MEM_HEADROOM = 15
  integer(c_int), parameter :: GSGD_MEM_RESERVE = 16
  integer(c_int), parameter :: GSGD_LR_SCALING = 17
  integer(c_int), parameter :: GSGD_LR_REF_BATCH = 18
  integer(c_int), parameter :: GSGD_WARMUP = 19
  integer(c_int), parameter :: GSGD_BETA1 = 20
  integer(c_int), parameter :: GSGD_BETA2 = 21
  integer(c_int), parameter :: GSGD_EPS = 22
  integer(c_int), parameter :: GSGD_RMS_ALPHA = 23
  integer(c_int), parameter :: GSGD_TRUST_COEF = 24
  integer(c_int), parameter :: GSGD_CLIP_NORM = 25
  integer(c_int), parameter :: GSGD_L1 = 26
  integer(c_int), parameter :: GSGD_L1_RATIO = 27
  integer(c_int), parameter :: GSGD_SCHEDULE = 28
  integer(c_int), parameter :: GSGD_LR_MIN = 29
  integer(c_int), parameter :: GSGD_COSINE_PERIOD = 30
  integer(c_int), parameter :: GSGD_COSINE_MULT = 31
  integer(c_int), parameter :: GSGD_POWER_T = 32
  integer(c_int), parameter :: GSGD_AVERAGE = 33
  integer(c_int), parameter :: GSGD_VALIDATION_FRACTION = 34
  integer(c_int), parameter :: GSGD_N_ITER_NO_CHANGE = 35
  integer(c_int), parameter :: GSGD_TOL = 36
  integer(c_int), parameter :: GSGD_ON_NAN = 37
  integer(c_int), parameter :: GSGD_MAX_EPOCHS = 38
  integer(c_int), parameter :: GSGD_MIN_STEPS = 39
  integer(c_int), parameter :: GSGD_STANDARDIZE = 40
  integer(c_int), parameter :: GSGD_MIN_EPOCH_STEPS = 41
  integer(c_int), parameter :: GSGD_COOLDOWN = 42
  integer(c_int), parameter :: GSGD_PRECISION = 43

  ! gsgd_standardize
  integer(c_int), parameter :: GSGD_STANDARDIZE_OFF = 0
  integer(c_int), parameter :: GSGD_STANDARDIZE_ON = 1
  integer(c_int), parameter :: GSGD_STANDARDIZE_AUTO = 2

  ! gsgd_stop_reason
  integer(c_int), parameter :: GSGD_STOP_EPOCHS = 0
  integer(c_int), parameter :: GSGD_STOP_CONVERGED = 1
  integer(c_int), parameter :: GSGD_STOP_MAX_EPOCHS = 2
  integer(c_int), parameter :: GSGD_STOP_TARGET = 3
  integer(c_int), parameter :: GSGD_STOP_NO_IMPROVEMENT = 4
  integer(c_int), parameter :: GSGD_STOP_LR_FLOOR = 5

  ! gsgd_batch_policy
  integer(c_int), parameter :: GSGD_BATCH_LARGEST = 0
  integer(c_int), parameter :: GSGD_BATCH_FASTEST = 1

  ! gsgd_lr_scaling
  integer(c_int), parameter :: GSGD_LR_SCALING_NONE = 0
  integer(c_int), parameter :: GSGD_LR_SCALING_LINEAR = 1
  integer(c_int), parameter :: GSGD_LR_SCALING_SQRT = 2

  ! gsgd_schedule
  integer(c_int), parameter :: GSGD_SCHEDULE_CONSTANT = 0
  integer(c_int), parameter :: GSGD_SCHEDULE_STEP = 1
  integer(c_int), parameter :: GSGD_SCHEDULE_EXPONENTIAL = 2
  integer(c_int), parameter :: GSGD_SCHEDULE_COSINE = 3
  integer(c_int), parameter :: GSGD_SCHEDULE_INVSCALING = 4
  integer(c_int), parameter :: GSGD_SCHEDULE_OPTIMAL = 5
  integer(c_int), parameter :: GSGD_SCHEDULE_ADAPTIVE = 6

  ! gsgd_on_nan
  integer(c_int), parameter :: GSGD_ON_NAN_STOP = 0
  integer(c_int), parameter :: GSGD_ON_NAN_SKIP = 1

  ! gsgd_precision
  integer(c_int), parameter :: GSGD_PRECISION_FP32 = 0
  integer(c_int), parameter :: GSGD_PRECISION_TF32 = 1
  integer(c_int), parameter :: GSGD_PRECISION_BF16 = 2

  ! gsgd_data_format
  integer(c_int), parameter :: GSGD_FORMAT_AUTO = 0
  integer(c_int), parameter :: GSGD_FORMAT_CSV = 1
  integer(c_int), parameter :: GSGD_FORMAT_SVMLIGHT = 2
  integer(c_int), parameter :: GSGD_FORMAT_NPY = 3
  integer(c_int), parameter :: GSGD_FORMAT_NPZ = 4
  integer(c_int), parameter :: GSGD_FORMAT_IDX = 5

  ! gsgd_target_kind
  integer(c_int), parameter :: GSGD_TARGET_CLASSES = 0
  integer(c_int), parameter :: GSGD_TARGET_REAL = 1

  ! gsgd_storage
  integer(c_int), parameter :: GSGD_STORAGE_AUTO = 0
  integer(c_int), parameter :: GSGD_STORAGE_F32 = 1
  integer(c_int), parameter :: GSGD_STORAGE_U8 = 2
  integer(c_int), parameter :: GSGD_STORAGE_CSR = 3

  ! gsgd_data_param
  integer(c_int), parameter :: GSGD_DATA_FORMAT = 0
  integer(c_int), parameter :: GSGD_DATA_TARGET = 1
  integer(c_int), parameter :: GSGD_DATA_HEADER = 2
  integer(c_int), parameter :: GSGD_DATA_DELIMITER = 3
  integer(c_int), parameter :: GSGD_DATA_ZERO_BASED = 4
  integer(c_int), parameter :: GSGD_DATA_TEST_FRACTION = 5
  integer(c_int), parameter :: GSGD_DATA_SEED = 6
  integer(c_int), parameter :: GSGD_DATA_STORAGE = 7
  integer(c_int), parameter :: GSGD_DATA_DECIMAL = 8

  ! gsgd_data_text
  integer(c_int), parameter :: GSGD_DATA_LABEL = 0
  integer(c_int), parameter :: GSGD_DATA_LABELS_FILE = 1
  integer(c_int), parameter :: GSGD_DATA_IGNORE = 2

  ! gsgd_metric
  integer(c_int), parameter :: GSGD_METRIC_N = 0
  integer(c_int), parameter :: GSGD_METRIC_N_CLASSES = 1
  integer(c_int), parameter :: GSGD_METRIC_LOSS = 2
  integer(c_int), parameter :: GSGD_METRIC_ACCURACY = 3
  integer(c_int), parameter :: GSGD_METRIC_LOG_LOSS = 4
  integer(c_int), parameter :: GSGD_METRIC_MACRO_F1 = 5
  integer(c_int), parameter :: GSGD_METRIC_MSE = 6
  integer(c_int), parameter :: GSGD_METRIC_RMSE = 7
  integer(c_int), parameter :: GSGD_METRIC_MAE = 8
  integer(c_int), parameter :: GSGD_METRIC_R2 = 9

  type, bind(C) :: gsgd_eval_result
    real(c_double) :: loss
    real(c_double) :: accuracy
    integer(c_size_t) :: n
  end type gsgd_eval_result

  type, bind(C) :: gsgd_progress
    integer(c_int) :: epoch
    integer(c_int) :: epochs
    integer(c_size_t) :: step
    integer(c_size_t) :: steps
    real(c_double) :: loss
    real(c_double) :: samples_per_second
    real(c_double) :: seconds
    integer(c_int) :: epoch_done
    real(c_double) :: test_accuracy
    real(c_double) :: lr
  end type gsgd_progress

  type, bind(C) :: gsgd_train_result
    integer(c_int) :: epochs
    integer(c_size_t) :: steps
    integer(c_size_t) :: batch
    real(c_double) :: train_loss
    real(c_double) :: test_accuracy
    real(c_double) :: test_loss
    real(c_double) :: seconds
    real(c_double) :: samples_per_second
    real(c_double) :: time_to_target_s
    real(c_double) :: lr
    integer(c_size_t) :: skipped_steps
    integer(c_int) :: stopped_early
    real(c_double) :: validation_accuracy
    real(c_double) :: samples_per_second_warm
    integer(c_int) :: stop_reason
    integer(c_int) :: cooldown_epochs
    real(c_double) :: train_seconds
    real(c_double) :: eval_seconds
  end type gsgd_train_result

  interface
    ! ---- status and version ------------------------------------------------
    type(c_ptr) function gsgd_status_string(s) bind(C, name="gsgd_status_string")
      import :: c_ptr, c_int
      integer(c_int), value :: s
    end function
    type(c_ptr) function gsgd_status_name(s) bind(C, name="gsgd_status_name")
      import :: c_ptr, c_int
      integer(c_int), value :: s
    end function
    integer(c_int) function gsgd_version() bind(C, name="gsgd_version")
      import :: c_int
    end function
    type(c_ptr) function gsgd_version_string() bind(C, name="gsgd_version_string")
      import :: c_ptr
    end function

    ! ---- context -----------------------------------------------------------
    integer(c_int) function gsgd_context_create(ctx, device, device_index) &
        bind(C, name="gsgd_context_create")
      import :: c_ptr, c_int
      type(c_ptr), intent(out) :: ctx
      integer(c_int), value :: device, device_index
    end function
    subroutine gsgd_context_free(ctx) bind(C, name="gsgd_context_free")
      import :: c_ptr
      type(c_ptr), value :: ctx
    end subroutine
    integer(c_int) function gsgd_context_device(ctx) bind(C, name="gsgd_context_device")
      import :: c_ptr, c_int
      type(c_ptr), value :: ctx
    end function
    type(c_ptr) function gsgd_last_error(ctx) bind(C, name="gsgd_last_error")
      import :: c_ptr
      type(c_ptr), value :: ctx
    end function
    integer(c_int) function gsgd_context_set_stream(ctx, stream) &
        bind(C, name="gsgd_context_set_stream")
      import :: c_ptr, c_int
      type(c_ptr), value :: ctx, stream
    end function
    !> fn: a C-interoperable subroutine (level, message, user), bind(C),
    !> with value arguments; message is a NUL-terminated C string.
    integer(c_int) function gsgd_context_set_log(ctx, fn, user) &
        bind(C, name="gsgd_context_set_log")
      import :: c_ptr, c_int, c_funptr
      type(c_ptr), value :: ctx, user
      type(c_funptr), value :: fn
    end function
    integer(c_int) function gsgd_context_set_mem_limit(ctx, bytes) &
        bind(C, name="gsgd_context_set_mem_limit")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx
      integer(c_size_t), value :: bytes
    end function
    integer(c_int) function gsgd_context_memory(ctx, in_use, peak) &
        bind(C, name="gsgd_context_memory")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx
      integer(c_size_t), intent(out) :: in_use, peak
    end function
    integer(c_int) function gsgd_info(ctx, buf, size) bind(C, name="gsgd_info")
      import :: c_ptr, c_int, c_size_t, c_char
      type(c_ptr), value :: ctx
      character(kind=c_char), intent(out) :: buf(*)
      integer(c_size_t), value :: size
    end function

    ! ---- datasets ----------------------------------------------------------
    !> X and y: c_loc of the caller's arrays (device memory on CUDA); kept
    !> by the caller, alive until gsgd_dataset_free.
    integer(c_int) function gsgd_dataset_from_device(ctx, X, y, n, d, n_classes, out) &
        bind(C, name="gsgd_dataset_from_device")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, X, y
      integer(c_size_t), value :: n, d
      integer(c_int), value :: n_classes
      type(c_ptr), intent(out) :: out
    end function
    ! Sparse (CSR) datasets: indptr int64 (n + 1), indices of index_type,
    ! values float32; d = 0 takes the largest index + 1.
    integer(c_int) function gsgd_dataset_from_csr(ctx, n, d, indptr, indices, index_type, &
        values, y, n_classes, out) bind(C, name="gsgd_dataset_from_csr")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, indptr, indices, values, y
      integer(c_size_t), value :: n, d
      integer(c_int), value :: index_type, n_classes
      type(c_ptr), intent(out) :: out
    end function
    integer(c_int) function gsgd_dataset_from_device_csr(ctx, n, d, indptr, indices, &
        index_type, values, y, n_classes, out) bind(C, name="gsgd_dataset_from_device_csr")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, indptr, indices, values, y
      integer(c_size_t), value :: n, d
      integer(c_int), value :: index_type, n_classes
      type(c_ptr), intent(out) :: out
    end function
    integer(c_int) function gsgd_dataset_sparse(ds, sparse, nnz) bind(C, name="gsgd_dataset_sparse")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ds
      integer(c_int), intent(out) :: sparse
      integer(c_size_t), intent(out) :: nnz
    end function
    integer(c_int) function gsgd_dataset_set_features(ds, d) &
        bind(C, name="gsgd_dataset_set_features")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ds
      integer(c_size_t), value :: d
    end function
    integer(c_int) function gsgd_predict_dataset(model, ds, out) &
        bind(C, name="gsgd_predict_dataset")
      import :: c_ptr, c_int, c_float
      type(c_ptr), value :: model, ds
      real(c_float), intent(out) :: out(*)
    end function
    integer(c_int) function gsgd_predict_classes_dataset(model, ds, out) &
        bind(C, name="gsgd_predict_classes_dataset")
      import :: c_ptr, c_int, c_int32_t
      type(c_ptr), value :: model, ds
      integer(c_int32_t), intent(out) :: out(*)
    end function
    ! out(n_outputs, n) and out(n_classes, n), as the host-row functions.
    integer(c_int) function gsgd_decision_function_dataset(model, ds, out) &
        bind(C, name="gsgd_decision_function_dataset")
      import :: c_ptr, c_int, c_float
      type(c_ptr), value :: model, ds
      real(c_float), intent(out) :: out(*)
    end function
    integer(c_int) function gsgd_predict_proba_dataset(model, ds, out) &
        bind(C, name="gsgd_predict_proba_dataset")
      import :: c_ptr, c_int, c_float
      type(c_ptr), value :: model, ds
      real(c_float), intent(out) :: out(*)
    end function
    integer(c_int) function gsgd_dataset_from_host(ctx, X, y, n, d, n_classes, out) &
        bind(C, name="gsgd_dataset_from_host")
      import :: c_ptr, c_int, c_size_t, c_float
      type(c_ptr), value :: ctx
      real(c_float), intent(in) :: X(*), y(*)
      integer(c_size_t), value :: n, d
      integer(c_int), value :: n_classes
      type(c_ptr), intent(out) :: out
    end function
    integer(c_int) function gsgd_dataset_load(ctx, spec, train, test) &
        bind(C, name="gsgd_dataset_load")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: ctx
      character(kind=c_char), intent(in) :: spec(*)
      type(c_ptr), intent(out) :: train, test
    end function
    integer(c_int) function gsgd_dataset_split(ds, test_fraction, seed, train, test) &
        bind(C, name="gsgd_dataset_split")
      import :: c_ptr, c_int, c_double, c_int64_t
      type(c_ptr), value :: ds
      real(c_double), value :: test_fraction
      integer(c_int64_t), value :: seed
      type(c_ptr), intent(out) :: train, test
    end function
    integer(c_int) function gsgd_dataset_shape(ds, n, d, n_classes) &
        bind(C, name="gsgd_dataset_shape")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ds
      integer(c_size_t), intent(out) :: n, d
      integer(c_int), intent(out) :: n_classes
    end function
    subroutine gsgd_dataset_free(ds) bind(C, name="gsgd_dataset_free")
      import :: c_ptr
      type(c_ptr), value :: ds
    end subroutine
    integer(c_int) function gsgd_dataset_split_stratified(ds, test_fraction, seed, train, test) &
        bind(C, name="gsgd_dataset_split_stratified")
      import :: c_ptr, c_int, c_double, c_int64_t
      type(c_ptr), value :: ds
      real(c_double), value :: test_fraction
      integer(c_int64_t), value :: seed
      type(c_ptr), intent(out) :: train, test
    end function

    ! ---- your own data: loading options, label maps, descriptions ----------
    integer(c_int) function gsgd_data_options_create(out) bind(C, name="gsgd_data_options_create")
      import :: c_ptr, c_int
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_data_options_free(o) bind(C, name="gsgd_data_options_free")
      import :: c_ptr
      type(c_ptr), value :: o
    end subroutine
    integer(c_int) function gsgd_data_set(o, p, value) bind(C, name="gsgd_data_set")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: o
      integer(c_int), value :: p
      real(c_double), value :: value
    end function
    integer(c_int) function gsgd_data_get(o, p, value) bind(C, name="gsgd_data_get")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: o
      integer(c_int), value :: p
      real(c_double), intent(out) :: value
    end function
    integer(c_int) function gsgd_data_param_bounds(p, lo, hi, dflt) &
        bind(C, name="gsgd_data_param_bounds")
      import :: c_int, c_double
      integer(c_int), value :: p
      real(c_double), intent(out) :: lo, hi, dflt
    end function
    !> value: gsgd_cstr('cultivar') (NUL-terminated); the text is copied.
    integer(c_int) function gsgd_data_set_text(o, p, value) bind(C, name="gsgd_data_set_text")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: o
      integer(c_int), value :: p
      character(kind=c_char), intent(in) :: value(*)
    end function
    integer(c_int) function gsgd_data_set_reference(o, train) &
        bind(C, name="gsgd_data_set_reference")
      import :: c_ptr, c_int
      type(c_ptr), value :: o, train
    end function
    !> o may be c_null_ptr (the defaults); test receives c_null_ptr when the
    !> source has no test part.
    integer(c_int) function gsgd_dataset_load_ex(ctx, source, o, train, test) &
        bind(C, name="gsgd_dataset_load_ex")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: ctx, o
      character(kind=c_char), intent(in) :: source(*)
      type(c_ptr), intent(out) :: train, test
    end function
    integer(c_int) function gsgd_dataset_describe(ds, buf, size) &
        bind(C, name="gsgd_dataset_describe")
      import :: c_ptr, c_int, c_size_t, c_char
      type(c_ptr), value :: ds
      character(kind=c_char), intent(out) :: buf(*)
      integer(c_size_t), value :: size
    end function
    !> text: a C string owned by the dataset; gsgd_fstr(text) copies it.
    integer(c_int) function gsgd_dataset_label(ds, k, text) bind(C, name="gsgd_dataset_label")
      import :: c_ptr, c_int
      type(c_ptr), value :: ds
      integer(c_int), value :: k
      type(c_ptr), intent(out) :: text
    end function
    integer(c_int) function gsgd_dataset_targets(ds, has, lo, hi) &
        bind(C, name="gsgd_dataset_targets")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: ds
      integer(c_int), intent(out) :: has
      real(c_double), intent(out) :: lo, hi
    end function
    !> name: a C string owned by the dataset ("" when none); gsgd_fstr(name) copies it.
    integer(c_int) function gsgd_dataset_feature_name(ds, j, name) &
        bind(C, name="gsgd_dataset_feature_name")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ds
      integer(c_size_t), value :: j
      type(c_ptr), intent(out) :: name
    end function
    !> name: a C string owned by the dataset ("" when none); gsgd_fstr(name) copies it.
    integer(c_int) function gsgd_dataset_target_name(ds, name) &
        bind(C, name="gsgd_dataset_target_name")
      import :: c_ptr, c_int
      type(c_ptr), value :: ds
      type(c_ptr), intent(out) :: name
    end function
    !> X(d, count) and y(count), host arrays filled from row first (0-based).
    integer(c_int) function gsgd_dataset_read(ds, first, count, X, y) &
        bind(C, name="gsgd_dataset_read")
      import :: c_ptr, c_int, c_size_t, c_float
      type(c_ptr), value :: ds
      integer(c_size_t), value :: first, count
      real(c_float), intent(out) :: X(*), y(*)
    end function

    ! ---- models ------------------------------------------------------------
    integer(c_int) function gsgd_model_create(ctx, spec, n_features, n_classes, seed, out) &
        bind(C, name="gsgd_model_create")
      import :: c_ptr, c_int, c_size_t, c_int64_t, c_char
      type(c_ptr), value :: ctx
      character(kind=c_char), intent(in) :: spec(*)
      integer(c_size_t), value :: n_features
      integer(c_int), value :: n_classes
      integer(c_int64_t), value :: seed
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_model_free(model) bind(C, name="gsgd_model_free")
      import :: c_ptr
      type(c_ptr), value :: model
    end subroutine
    !> params: the model's flat buffer (device memory on CUDA); on the CPU
    !> call c_f_pointer(params, array, [n]) to use it as a Fortran array.
    integer(c_int) function gsgd_model_params(model, params, n, n_decay) &
        bind(C, name="gsgd_model_params")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: model
      type(c_ptr), intent(out) :: params
      integer(c_size_t), intent(out) :: n, n_decay
    end function
    integer(c_int) function gsgd_model_fit_standardizer(model, ds) &
        bind(C, name="gsgd_model_fit_standardizer")
      import :: c_ptr, c_int
      type(c_ptr), value :: model, ds
    end function
    ! The standardiser's mean and 1/std (n_features each), has = 0 without one.
    integer(c_int) function gsgd_model_standardizer(model, mean, inv_std, has) &
        bind(C, name="gsgd_model_standardizer")
      import :: c_ptr, c_int, c_float
      type(c_ptr), value :: model
      real(c_float), intent(out) :: mean(*), inv_std(*)
      integer(c_int), intent(out) :: has
    end function
    ! STANDARDIZE of opts applied to model for ds, as gsgd_trainer_create does.
    integer(c_int) function gsgd_model_standardize(model, ds, opts, standardized, scale_ratio) &
        bind(C, name="gsgd_model_standardize")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: model, ds, opts
      integer(c_int), intent(out) :: standardized
      real(c_double), intent(out) :: scale_ratio
    end function
    integer(c_int) function gsgd_predict(model, X, n, out) bind(C, name="gsgd_predict")
      import :: c_ptr, c_int, c_size_t, c_float
      type(c_ptr), value :: model
      real(c_float), intent(in) :: X(*)
      integer(c_size_t), value :: n
      real(c_float), intent(out) :: out(*)
    end function
    ! out(n_outputs, n): column i holds sample i's raw outputs (C's row-major
    ! n x n_outputs), as X(n_features, n) holds its features.
    integer(c_int) function gsgd_decision_function(model, X, n, out) &
        bind(C, name="gsgd_decision_function")
      import :: c_ptr, c_int, c_size_t, c_float
      type(c_ptr), value :: model
      real(c_float), intent(in) :: X(*)
      integer(c_size_t), value :: n
      real(c_float), intent(out) :: out(*)
    end function
    ! out(n_classes, n): sample i's class probabilities in column i.
    integer(c_int) function gsgd_predict_proba(model, X, n, out) &
        bind(C, name="gsgd_predict_proba")
      import :: c_ptr, c_int, c_size_t, c_float
      type(c_ptr), value :: model
      real(c_float), intent(in) :: X(*)
      integer(c_size_t), value :: n
      real(c_float), intent(out) :: out(*)
    end function
    integer(c_int) function gsgd_evaluate(model, ds, out) bind(C, name="gsgd_evaluate")
      import :: c_ptr, c_int, gsgd_eval_result
      type(c_ptr), value :: model, ds
      type(gsgd_eval_result), intent(out) :: out
    end function
    integer(c_int) function gsgd_model_save(model, path) bind(C, name="gsgd_model_save")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: model
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function gsgd_model_load(ctx, path, out) bind(C, name="gsgd_model_load")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: ctx
      character(kind=c_char), intent(in) :: path(*)
      type(c_ptr), intent(out) :: out
    end function
    integer(c_int) function gsgd_model_shape(model, spec, n_features, n_classes) &
        bind(C, name="gsgd_model_shape")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: model
      type(c_ptr), intent(out) :: spec
      integer(c_size_t), intent(out) :: n_features
      integer(c_int), intent(out) :: n_classes
    end function
    integer(c_int) function gsgd_model_set_labels(model, ds) bind(C, name="gsgd_model_set_labels")
      import :: c_ptr, c_int
      type(c_ptr), value :: model, ds
    end function
    !> text: a C string owned by the model; gsgd_fstr(text) copies it.
    integer(c_int) function gsgd_model_label(model, k, text) bind(C, name="gsgd_model_label")
      import :: c_ptr, c_int
      type(c_ptr), value :: model
      integer(c_int), value :: k
      type(c_ptr), intent(out) :: text
    end function
    !> name: a C string owned by the model ("" when unknown); gsgd_fstr(name) copies it.
    integer(c_int) function gsgd_model_feature_name(model, j, name) &
        bind(C, name="gsgd_model_feature_name")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: model
      integer(c_size_t), value :: j
      type(c_ptr), intent(out) :: name
    end function
    !> name: a C string owned by the model ("" when unknown); gsgd_fstr(name) copies it.
    integer(c_int) function gsgd_model_target_name(model, name) &
        bind(C, name="gsgd_model_target_name")
      import :: c_ptr, c_int
      type(c_ptr), value :: model
      type(c_ptr), intent(out) :: name
    end function
    integer(c_int) function gsgd_data_set_model(o, model) bind(C, name="gsgd_data_set_model")
      import :: c_ptr, c_int
      type(c_ptr), value :: o, model
    end function
    integer(c_int) function gsgd_predict_classes(model, X, n, out) &
        bind(C, name="gsgd_predict_classes")
      import :: c_ptr, c_int, c_size_t, c_float, c_int32_t
      type(c_ptr), value :: model
      real(c_float), intent(in) :: X(*)
      integer(c_size_t), value :: n
      integer(c_int32_t), intent(out) :: out(*)
    end function
    integer(c_int) function gsgd_model_describe(model, buf, size) &
        bind(C, name="gsgd_model_describe")
      import :: c_ptr, c_int, c_size_t, c_char
      type(c_ptr), value :: model
      character(kind=c_char), intent(out) :: buf(*)
      integer(c_size_t), value :: size
    end function

    ! ---- metrics -----------------------------------------------------------
    integer(c_int) function gsgd_evaluate_metrics(model, ds, out) &
        bind(C, name="gsgd_evaluate_metrics")
      import :: c_ptr, c_int
      type(c_ptr), value :: model, ds
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_metrics_free(metrics) bind(C, name="gsgd_metrics_free")
      import :: c_ptr
      type(c_ptr), value :: metrics
    end subroutine
    integer(c_int) function gsgd_metrics_get(metrics, which, value) bind(C, name="gsgd_metrics_get")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: metrics
      integer(c_int), value :: which
      real(c_double), intent(out) :: value
    end function
    integer(c_int) function gsgd_metrics_class(metrics, k, precision, recall, f1, support) &
        bind(C, name="gsgd_metrics_class")
      import :: c_ptr, c_int, c_double, c_size_t
      type(c_ptr), value :: metrics
      integer(c_int), value :: k
      real(c_double), intent(out) :: precision, recall, f1
      integer(c_size_t), intent(out) :: support
    end function
    !> counts(n_classes, n_classes): counts(p+1, t+1) holds samples of true
    !> class t predicted as p (C's row-major [t][p] seen column-major).
    integer(c_int) function gsgd_metrics_confusion(metrics, counts) &
        bind(C, name="gsgd_metrics_confusion")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: metrics
      integer(c_size_t), intent(out) :: counts(*)
    end function

    ! ---- options -----------------------------------------------------------
    integer(c_int) function gsgd_options_create(out) bind(C, name="gsgd_options_create")
      import :: c_ptr, c_int
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_options_free(opts) bind(C, name="gsgd_options_free")
      import :: c_ptr
      type(c_ptr), value :: opts
    end subroutine
    integer(c_int) function gsgd_set(opts, p, value) bind(C, name="gsgd_set")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: opts
      integer(c_int), value :: p
      real(c_double), value :: value
    end function
    integer(c_int) function gsgd_get(opts, p, value) bind(C, name="gsgd_get")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: opts
      integer(c_int), value :: p
      real(c_double), intent(out) :: value
    end function
    integer(c_int) function gsgd_param_bounds(p, lo, hi, dflt) bind(C, name="gsgd_param_bounds")
      import :: c_int, c_double
      integer(c_int), value :: p
      real(c_double), intent(out) :: lo, hi, dflt
    end function
    type(c_ptr) function gsgd_param_name(p) bind(C, name="gsgd_param_name")
      import :: c_ptr, c_int
      integer(c_int), value :: p
    end function

    ! ---- batch-size planning ------------------------------------------------
    integer(c_int) function gsgd_plan(ctx, model, data, opts, out) bind(C, name="gsgd_plan")
      import :: c_ptr, c_int
      type(c_ptr), value :: ctx, model, data, opts
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_plan_free(plan) bind(C, name="gsgd_plan_free")
      import :: c_ptr
      type(c_ptr), value :: plan
    end subroutine
    integer(c_size_t) function gsgd_plan_batch(plan) bind(C, name="gsgd_plan_batch")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_max_fit(plan) bind(C, name="gsgd_plan_max_fit")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_budget(plan) bind(C, name="gsgd_plan_budget")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_fixed(plan) bind(C, name="gsgd_plan_fixed")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_per_sample(plan) bind(C, name="gsgd_plan_per_sample")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_per_nonzero(plan) bind(C, name="gsgd_plan_per_nonzero")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_batch_nonzeros(plan) &
        bind(C, name="gsgd_plan_batch_nonzeros")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_predicted(plan) bind(C, name="gsgd_plan_predicted")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    integer(c_size_t) function gsgd_plan_measured(plan) bind(C, name="gsgd_plan_measured")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: plan
    end function
    type(c_ptr) function gsgd_plan_reason(plan) bind(C, name="gsgd_plan_reason")
      import :: c_ptr
      type(c_ptr), value :: plan
    end function
    real(c_double) function gsgd_plan_lr(plan) bind(C, name="gsgd_plan_lr")
      import :: c_ptr, c_double
      type(c_ptr), value :: plan
    end function
    real(c_double) function gsgd_plan_seconds(plan) bind(C, name="gsgd_plan_seconds")
      import :: c_ptr, c_double
      type(c_ptr), value :: plan
    end function
    integer(c_int) function gsgd_plan_memory(plan, free_bytes, total_bytes, cap, headroom) &
        bind(C, name="gsgd_plan_memory")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: plan
      integer(c_size_t), intent(out) :: free_bytes, total_bytes, cap, headroom
    end function
    integer(c_int) function gsgd_plan_item_count(plan) bind(C, name="gsgd_plan_item_count")
      import :: c_ptr, c_int
      type(c_ptr), value :: plan
    end function
    integer(c_int) function gsgd_plan_item(plan, i, name, bytes, per_sample, resident) &
        bind(C, name="gsgd_plan_item")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: plan
      integer(c_int), value :: i
      type(c_ptr), intent(out) :: name
      integer(c_size_t), intent(out) :: bytes
      integer(c_int), intent(out) :: per_sample, resident
    end function
    integer(c_int) function gsgd_plan_curve_count(plan) bind(C, name="gsgd_plan_curve_count")
      import :: c_ptr, c_int
      type(c_ptr), value :: plan
    end function
    integer(c_int) function gsgd_plan_curve(plan, i, batch, samples_per_second) &
        bind(C, name="gsgd_plan_curve")
      import :: c_ptr, c_int, c_size_t, c_double
      type(c_ptr), value :: plan
      integer(c_int), value :: i
      integer(c_size_t), intent(out) :: batch
      real(c_double), intent(out) :: samples_per_second
    end function

    ! ---- training ----------------------------------------------------------
    integer(c_int) function gsgd_trainer_create(model, train, opts, out) &
        bind(C, name="gsgd_trainer_create")
      import :: c_ptr, c_int
      type(c_ptr), value :: model, train, opts
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_trainer_free(tr) bind(C, name="gsgd_trainer_free")
      import :: c_ptr
      type(c_ptr), value :: tr
    end subroutine
    integer(c_int) function gsgd_trainer_plan(tr, plan) bind(C, name="gsgd_trainer_plan")
      import :: c_ptr, c_int
      type(c_ptr), value :: tr
      type(c_ptr), intent(out) :: plan
    end function
    integer(c_int) function gsgd_train_epoch(tr, mean_loss) bind(C, name="gsgd_train_epoch")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: tr
      real(c_double), intent(out) :: mean_loss
    end function
    !> test may be c_null_ptr; progress is c_funloc of a bind(C) function
    !> integer(c_int) f(p, user) with type(gsgd_progress), intent(in) :: p
    !> and type(c_ptr), value :: user, or c_null_funptr.
    integer(c_int) function gsgd_train(tr, test, progress, user, out) bind(C, name="gsgd_train")
      import :: c_ptr, c_funptr, c_int, gsgd_train_result
      type(c_ptr), value :: tr, test
      type(c_funptr), value :: progress
      type(c_ptr), value :: user
      type(gsgd_train_result), intent(out) :: out
    end function
    integer(c_int) function gsgd_trainer_evaluate(tr, ds, out) &
        bind(C, name="gsgd_trainer_evaluate")
      import :: c_ptr, c_int, gsgd_eval_result
      type(c_ptr), value :: tr, ds
      type(gsgd_eval_result), intent(out) :: out
    end function
    integer(c_int) function gsgd_trainer_save(tr, path) bind(C, name="gsgd_trainer_save")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: tr
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function gsgd_trainer_resume(tr, path) bind(C, name="gsgd_trainer_resume")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: tr
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function gsgd_trainer_resume_new_data(tr, path) &
        bind(C, name="gsgd_trainer_resume_new_data")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: tr
      character(kind=c_char), intent(in) :: path(*)
    end function
    integer(c_int) function gsgd_trainer_set_data(tr, train) &
        bind(C, name="gsgd_trainer_set_data")
      import :: c_ptr, c_int
      type(c_ptr), value :: tr, train
    end function
    integer(c_int) function gsgd_checkpoint_options(ctx, path, opts, epochs_done, epoch_step) &
        bind(C, name="gsgd_checkpoint_options")
      import :: c_ptr, c_int, c_char, c_size_t
      type(c_ptr), value :: ctx, opts
      character(kind=c_char), intent(in) :: path(*)
      integer(c_int), intent(out) :: epochs_done
      integer(c_size_t), intent(out) :: epoch_step
    end function

    ! ---- the fused update on caller-owned buffers --------------------------
    integer(c_int) function gsgd_optimizer_create(ctx, opts, n, out) &
        bind(C, name="gsgd_optimizer_create")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ctx, opts
      integer(c_size_t), value :: n
      type(c_ptr), intent(out) :: out
    end function
    subroutine gsgd_optimizer_free(opt) bind(C, name="gsgd_optimizer_free")
      import :: c_ptr
      type(c_ptr), value :: opt
    end subroutine
    !> params, grads: c_loc of real(c_float) target arrays on the CPU, device
    !> pointers on CUDA; stream: a cudaStream_t or c_null_ptr.
    integer(c_int) function gsgd_optimizer_step(opt, params, grads, n, stream) &
        bind(C, name="gsgd_optimizer_step")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: opt, params, grads
      integer(c_size_t), value :: n
      type(c_ptr), value :: stream
    end function

    ! ---- experimental (see the end of gsgd.h) -------------------------------
    !> source: NUL-terminated (trim(s)//c_null_char); the detail of a
    !> failure is in gsgd_last_error(c_null_ptr) of the calling thread.
    integer(c_int) function gsgd_host_data_read(source, o, out) &
        bind(C, name="gsgd_host_data_read")
      import :: c_ptr, c_int, c_char
      character(kind=c_char), intent(in) :: source(*)
      type(c_ptr), value :: o
      type(c_ptr), intent(out) :: out
    end function
    integer(c_int) function gsgd_dataset_upload(ctx, h, train, test) &
        bind(C, name="gsgd_dataset_upload")
      import :: c_ptr, c_int
      type(c_ptr), value :: ctx, h
      type(c_ptr), intent(out) :: train, test
    end function
    subroutine gsgd_host_data_free(h) bind(C, name="gsgd_host_data_free")
      import :: c_ptr
      type(c_ptr), value :: h
    end subroutine
    integer(c_int) function gsgd_dataset_subset(ds, first, count, stride, out) &
        bind(C, name="gsgd_dataset_subset")
      import :: c_ptr, c_int, c_size_t
      type(c_ptr), value :: ds
      integer(c_size_t), value :: first, count, stride
      type(c_ptr), intent(out) :: out
    end function
    !> fn: c_funloc of a bind(C) function integer(c_int) f(grads, n, stream,
    !> user) with type(c_ptr), value :: grads, stream, user and
    !> integer(c_size_t), value :: n; or c_null_funptr to remove it.
    integer(c_int) function gsgd_trainer_set_grad_hook(tr, fn, user) &
        bind(C, name="gsgd_trainer_set_grad_hook")
      import :: c_ptr, c_funptr, c_int
      type(c_ptr), value :: tr
      type(c_funptr), value :: fn
      type(c_ptr), value :: user
    end function
    integer(c_int) function gsgd_trainer_set_replica(tr, rank, n_replicas, shard) &
        bind(C, name="gsgd_trainer_set_replica")
      import :: c_ptr, c_int
      type(c_ptr), value :: tr
      integer(c_int), value :: rank, n_replicas, shard
    end function
  end interface

contains

  !> s with a NUL appended, for the C API's string arguments. Trailing blanks
  !> are kept: pass trim(name) for a blank-padded variable.
  function gsgd_cstr(s) result(c)
    character(len=*), intent(in) :: s
    character(kind=c_char, len=:), allocatable :: c
    c = s // c_null_char
  end function gsgd_cstr

  !> A copy of the NUL-terminated C string at p ("" for a null pointer).
  function gsgd_fstr(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: i, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    ! The length is unknown until the NUL: view the memory as a long array
    ! and read no further than the terminator.
    call c_f_pointer(p, chars, [huge(0)])
    n = 0
    do while (chars(n + 1) /= c_null_char)
      n = n + 1
    end do
    allocate (character(len=n) :: s)
    do i = 1, n
      s(i:i) = chars(i)
    end do
  end function gsgd_fstr

  !> The detail of the last failure on ctx, as a Fortran string.
  function gsgd_error(ctx) result(s)
    type(c_ptr), intent(in) :: ctx
    character(len=:), allocatable :: s
    s = gsgd_fstr(gsgd_last_error(ctx))
  end function gsgd_error
end module gsgd
