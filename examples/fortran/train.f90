!> Embedding gsgd from Fortran: train softmax regression on the program's
!> own arrays, then apply the fused optimizer step to an array gsgd does not
!> own. The same program as examples/c/embed.c, bit for bit:
!>   gfortran gsgd.f90 train.f90 $(pkg-config --libs gsgd)
!>   ./train_fortran [PARAMS.bin]  (writes the trained and the updated floats)
program train
  use, intrinsic :: iso_c_binding
  use gsgd
  implicit none
  integer, parameter :: N = 600, D = 8, K = 3
  ! X(:, i) is sample i: the layout of C's row-major N x D array.
  real(c_float), target :: X(D, N), y(N), w(4), g(4)
  real(c_float), pointer :: params(:)
  type(c_ptr) :: ctx, ds, model, opts, tr, opt, p
  type(gsgd_train_result) :: res
  type(gsgd_eval_result) :: ev
  integer(c_size_t) :: n_params, n_decay
  integer :: i, j, kk, q, score(K), unit, t
  character(len=1024) :: path

  ! Integer formulas give the same bits as the C example.
  do i = 0, N - 1
    score = 0
    do j = 0, D - 1
      q = mod(i * 37 + j * 101 + i * j * 7, 199) - 99
      X(j + 1, i + 1) = real(q, c_float) / 100.0_c_float
      do kk = 0, K - 1
        score(kk + 1) = score(kk + 1) + (mod(kk * 5 + j * 3, 7) - 3) * q
      end do
    end do
    y(i + 1) = real(maxloc(score, 1) - 1, c_float) ! first maximum, as in C
  end do

  call check(gsgd_context_create(ctx, GSGD_DEVICE_CPU, 0_c_int)) ! host arrays below
  call check(gsgd_dataset_from_host(ctx, X, y, int(N, c_size_t), int(D, c_size_t), K, ds))
  call check(gsgd_model_create(ctx, gsgd_cstr("softmax"), int(D, c_size_t), K, 42_c_int64_t, &
                               model))
  call check(gsgd_options_create(opts))
  call check(gsgd_set(opts, GSGD_LR, 0.5_c_double))
  call check(gsgd_set(opts, GSGD_BATCH, 32.0_c_double))
  call check(gsgd_set(opts, GSGD_EPOCHS, 5.0_c_double))
  call check(gsgd_set(opts, GSGD_SEED, 42.0_c_double))
  call check(gsgd_trainer_create(model, ds, opts, tr))
  call check(gsgd_train(tr, c_null_ptr, c_null_funptr, c_null_ptr, res))
  call check(gsgd_evaluate(model, ds, ev))
  print '(a, a, a, i0, a, f6.4, a, f5.3)', 'gsgd ', gsgd_fstr(gsgd_version_string()), ': ', &
    res%steps, ' steps, train loss ', res%train_loss, ', train accuracy ', ev%accuracy

  ! The program's own parameters and gradient: 100 momentum steps on
  ! f(w) = |w - 1|^2 / 2, whose gradient is w - 1.
  w = 0
  call check(gsgd_set(opts, GSGD_OPTIMIZER, real(GSGD_OPTIM_MOMENTUM, c_double)))
  call check(gsgd_set(opts, GSGD_LR, 0.1_c_double))
  call check(gsgd_optimizer_create(ctx, opts, size(w, kind=c_size_t), opt))
  do t = 1, 100
    g = w - 1
    call check(gsgd_optimizer_step(opt, c_loc(w), c_loc(g), size(w, kind=c_size_t), c_null_ptr))
  end do
  print '(a, f6.4, a)', 'own buffer after 100 momentum steps: w(1) = ', w(1), ' (minimum at 1)'

  ! On the CPU backend the model's flat buffer is host memory: view it.
  call check(gsgd_model_params(model, p, n_params, n_decay))
  call c_f_pointer(p, params, [n_params])
  if (command_argument_count() > 0) then
    call get_command_argument(1, path)
    open (newunit=unit, file=trim(path), access='stream', form='unformatted', &
          status='replace', action='write')
    write (unit) params, w
    close (unit)
  end if

  call gsgd_optimizer_free(opt)
  call gsgd_trainer_free(tr)
  call gsgd_options_free(opts)
  call gsgd_model_free(model)
  call gsgd_dataset_free(ds)
  call gsgd_context_free(ctx)
  ! Both problems are easy: fail loudly if either was not solved.
  if (ev%accuracy <= 0.9_c_double .or. abs(w(1) - 1) >= 0.01) error stop 'not solved'

contains

  subroutine check(status)
    integer(c_int), intent(in) :: status
    if (status /= GSGD_STATUS_OK) then
      write (0, '(a, a, a)') gsgd_fstr(gsgd_status_name(status)), ': ', gsgd_error(ctx)
      error stop 1
    end if
  end subroutine check
end program train
