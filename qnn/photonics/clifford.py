"""Exact boson sampling by the Clifford & Clifford algorithm, with a Glynn permanent helper.

The sampler implements Algorithm B of

    P. Clifford and R. Clifford, "The classical complexity of boson sampling",
    Proc. SODA 2018, arXiv:1706.01260,

with the repeated-row saving of

    P. Clifford and R. Clifford, "Faster classical boson sampling",
    arXiv:2005.04214.

Algorithm B draws one output mode per photon.  For a sample it first permutes the
``N`` photon columns ``A = U[:, cols]`` at random and then, for ``k = 1 .. N``,
draws the ``k``-th output mode ``i`` with probability proportional to

    w_i = | sum_{l < k} A[i, l] * Per(A[r_1 .. r_{k-1}, {0 .. k-1} \\ {l}]) |^2,

where ``r_1 .. r_{k-1}`` are the modes already drawn.  All ``k`` column-deleted
minors are computed together by Glynn's formula: for each sign vector the column
sums ``v_j`` are updated in Gray-code order and the products ``prod_{j != l} v_j``
are formed from prefix and suffix products (no division, so structural zeros in
``U`` are harmless).  A mode drawn ``d`` times contributes ``d`` identical rows;
its ``2^d`` sign patterns collapse to ``d + 1`` values weighted by binomial
coefficients, which is the saving of arXiv:2005.04214.  The sign enumeration is
split into SIMD-friendly "lanes" (the values of a few digits) that share one
mixed-radix Gray-code walk over the remaining digits.

Conventions: ``unitary[out_mode, in_mode]`` (columns are input modes) and
``input_state[m]`` is the photon number in input mode ``m``.  All randomness comes
from the ``numpy.random.Generator`` passed in; each sample consumes its own
pre-drawn permutation and uniforms, so results do not depend on the thread count.

Ctrl-C: numba code never checks for signals. Work above ``_CALL_WORK`` operations runs in
chunks of samples on worker threads while the calling thread waits, so Python handles the
signal at once; the kernels then stop at their next read of a shared stop flag (between
samples and every ``_STOP_EVERY`` Gray-code steps, so within milliseconds even inside one
sample of 30 photons) and ``KeyboardInterrupt`` propagates.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait

import numba
import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .cost import check_sampler, sampler_work

__all__ = ["clifford_sample", "permanent"]

_LANES = 16  # sign vectors evaluated side by side (16 float64: two AVX-512 registers)
_BATCH = 1 << 16  # samples whose randomness is drawn from ``rng`` at once
_CHUNKS_PER_THREAD = 8  # work items per thread and batch, for load balance
_MIN_PARALLEL_SAMPLES = 64  # fewer samples (of little work) run on the calling thread
_CALL_WORK = 5e7  # estimated operations (shots · N · 2^N) per kernel call: well under 0.1 s
_STOP_EVERY = 1 << 10  # Gray-code steps between reads of the stop flag
_UNITARY_ATOL = {"single": 1e-4, "double": 1e-6}  # max |U^dagger U - I| by input precision


# --------------------------------------------------------------------------- permanent


@njit(cache=True)
def _glynn_permanent(a):
    """Permanent of a square complex128 matrix by Glynn's formula in Gray-code order."""
    n = a.shape[0]
    if n == 0:
        return 1.0 + 0.0j
    v = np.empty(n, dtype=np.complex128)
    for j in range(n):
        s = 0.0j
        for i in range(n):
            s += a[i, j]
        v[j] = s
    delta = np.ones(n)
    sign = 1.0
    total = 0.0j
    for step in range(1 << (n - 1)):
        if step > 0:
            bit = 0
            while ((step >> bit) & 1) == 0:
                bit += 1
            row = bit + 1  # row 0 keeps sign +1
            delta[row] = -delta[row]
            sign = -sign
            for j in range(n):
                v[j] += 2.0 * delta[row] * a[row, j]
        prod = 1.0 + 0.0j
        for j in range(n):
            prod *= v[j]
        total += sign * prod
    return total / (1 << (n - 1))


def permanent(matrix: np.ndarray) -> complex:
    """Permanent of a square matrix (Glynn's formula, Gray-code order, O(2^n n)).

    Args:
        matrix: ``(n, n)`` array, converted to complex128.  ``n = 0`` gives 1.

    Returns:
        The permanent as a Python complex.

    Raises:
        ValueError: if ``matrix`` is not a square 2-D array.
    """
    a = np.ascontiguousarray(matrix, dtype=np.complex128)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix must be a square 2-D array, got shape {a.shape}")
    return complex(_glynn_permanent(a))


# --------------------------------------------------------------------------- scratch layout
#
# Each parallel work item owns two scratch arrays, addressed by these row constants.
# ``ints``: (10, max(M, N)) int64.  Per sample: drawn distinct modes, their
# multiplicities and each mode's index among them (-1 if not drawn).  Per step:
# Glynn digit bookkeeping.
_ROWS, _MULT, _SLOT, _TOP, _RADIX, _IS_LANE, _LANE_DIGITS, _GRAY_DIGITS, _DIGIT, _DIRECTION = (
    range(10))
# ``floats``: (12, max(M, (N + 1) * _LANES)) float64.  Lane data is flat, index
# ``j * _LANES + q`` for column ``j`` and lane ``q``: column sums ``v``, prefix products
# ``p[j] = prod_{i<j} v[i]``, suffix products ``s[j] = prod_{i>=j} v[i]``, accumulated
# all-but-one products; ``_COEF`` holds lane weights, ``_MINOR_*`` the ``k`` minor sums
# and ``_CUMULATIVE`` the ``M`` cumulative output weights.  Separate rows let LLVM
# vectorize the lane loops after one cheap overlap check.
_VR, _VI, _PR, _PI, _SR, _SI, _ACC_R, _ACC_I, _COEF, _MINOR_R, _MINOR_I, _CUMULATIVE = range(12)


def _scratch_shapes(n_modes, n_photons):
    """Shapes of the ``ints`` and ``floats`` scratch of one work item."""
    width = max(n_modes, n_photons, 1)
    return (10, width), (12, max(n_modes, (n_photons + 1) * _LANES))


# --------------------------------------------------------------------------- kernels


@intrinsic
def _stop_requested(typingctx, flag):
    """``flag[0] != 0``, read by an atomic load: unlike a plain load, LLVM may not hoist it out
    of a loop, so a kernel sees the calling thread's write while it runs."""
    if not (isinstance(flag, types.Array) and flag.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        value = builder.load_atomic(array.data, "monotonic", 8)
        return builder.icmp_signed("!=", value, value.type(0))

    return types.boolean(flag), codegen



@njit(cache=True)
def _binomial_table(n):
    """``table[d, c] = binom(d, c)`` as float64 for ``0 <= c <= d <= n``."""
    table = np.zeros((n + 1, n + 1))
    for d in range(n + 1):
        table[d, 0] = 1.0
        for c in range(1, d + 1):
            table[d, c] = table[d - 1, c - 1] + table[d - 1, c]
    return table


@njit(cache=True)
def _split_digits(ints, n_digits):
    """Choose lane digits (radix 2 first, at most ``_LANES`` lanes); the others form the Gray walk.

    Reads ``ints[_RADIX]``, writes ``ints[_LANE_DIGITS]`` and ``ints[_GRAY_DIGITS]``; radix-1
    digits are constant and dropped.  Returns ``(n_lane_digits, n_gray_digits)``.
    """
    radix = ints[_RADIX]
    is_lane = ints[_IS_LANE]
    n_lane = 0
    n_lanes = 1
    for binary_pass in (True, False):
        for t in range(n_digits):
            is_lane[t] = 0 if binary_pass else is_lane[t]
            if radix[t] > 1 and (radix[t] == 2) == binary_pass and n_lanes * radix[t] <= _LANES:
                is_lane[t] = 1
                ints[_LANE_DIGITS, n_lane] = t
                n_lane += 1
                n_lanes *= radix[t]
    n_gray = 0
    for t in range(n_digits):
        if radix[t] > 1 and not is_lane[t]:
            ints[_GRAY_DIGITS, n_gray] = t
            n_gray += 1
    return n_lane, n_gray


@njit(cache=True)
def _shifted_copy(v, a_row, k, size, dest, fac):
    """``v[j, dest + q] = v[j, q] + fac * a_row[j]`` for ``j < k``, ``q < size``."""
    for j in range(k):
        d = fac * a_row[j]
        for q in range(size):
            v[j * _LANES + dest + q] = v[j * _LANES + q] + d


@njit(cache=True)
def _init_lanes(ar, ai, k, binom, ints, floats, n_distinct, n_lane):
    """Set the column sums and weights of every lane, with all Gray digits at 0.

    Lane ``q`` holds the lane digits in mixed radix (first digit fastest) and has weight
    ``prod (-1)^c_t binom(top_t, c_t)`` over them.  Lanes are built block by block: those
    with ``c_t = c`` are the ones with ``c_t = 0`` shifted by ``-2 c A[rows[t]]``.  Unused
    lanes are padding with weight 0 and ``v = 0``.
    """
    rows, mult, top = ints[_ROWS], ints[_MULT], ints[_TOP]
    vr, vi, coef = floats[_VR], floats[_VI], floats[_COEF]
    vr[: k * _LANES] = 0.0
    vi[: k * _LANES] = 0.0
    coef[:_LANES] = 0.0
    coef[0] = 1.0
    for j in range(k):  # lane 0: every sign +1
        sr = 0.0
        si = 0.0
        for t in range(n_distinct):
            sr += mult[t] * ar[rows[t], j]
            si += mult[t] * ai[rows[t], j]
        vr[j * _LANES] = sr
        vi[j * _LANES] = si
    size = 1
    for p in range(n_lane):
        t = ints[_LANE_DIGITS, p]
        for c in range(1, top[t] + 1):
            weight = binom[top[t], c] * (1.0 - 2.0 * (c & 1))
            for q in range(size):
                coef[c * size + q] = weight * coef[q]
            _shifted_copy(vr, ar[rows[t]], k, size, c * size, -2.0 * c)
            _shifted_copy(vi, ai[rows[t]], k, size, c * size, -2.0 * c)
        size *= top[t] + 1


@njit(cache=True)
def _add_row(v, a_row, k, fac):
    """``v[j, q] += fac * a_row[j]`` for every lane (one buffer, so no aliasing question)."""
    for j in range(k):
        d = fac * a_row[j]
        for q in range(_LANES):
            v[j * _LANES + q] += d


@njit(cache=True, fastmath=True)
def _prefix_products(n, vr, vi, pr, pi):
    """``p[x + L] = p[x] * v[x]`` for ``x < n`` (complex, ``L = _LANES``), given ``p[:L]``."""
    w = _LANES
    for x in range(n):
        pr[x + w] = pr[x] * vr[x] - pi[x] * vi[x]
        pi[x + w] = pr[x] * vi[x] + pi[x] * vr[x]


@njit(cache=True, fastmath=True)
def _suffix_products(n, vr, vi, sr, si):
    """``s[x] = s[x + L] * v[x]`` for ``x = n - 1 .. 0`` (complex), given ``s[n:n + L]``."""
    w = _LANES
    for x in range(n - 1, -1, -1):
        sr[x] = sr[x + w] * vr[x] - si[x + w] * vi[x]
        si[x] = sr[x + w] * vi[x] + si[x + w] * vr[x]


@njit(cache=True, fastmath=True)
def _accumulate_products(n, pr, pi, sr, si, acc_r, acc_i):
    """``acc[x] += p[x] * s[x + L]`` for ``x < n`` (complex, ``L = _LANES``)."""
    w = _LANES
    for x in range(n):
        acc_r[x] += pr[x] * sr[x + w] - pi[x] * si[x + w]
        acc_i[x] += pr[x] * si[x + w] + pi[x] * sr[x + w]


@njit(cache=True)
def _accumulate_all_but_one(k, weight, floats):
    """``acc[l, q] += weight * coef[q] * prod_{j < k, j != l} v[j, q]`` as prefix x suffix.

    No division by ``v[l, q]``, so exact zeros (structural zeros of ``U``) are harmless.
    Three separate loops: each one vectorizes (a fused backward loop does not).
    """
    n = k * _LANES
    vr, vi, pr, pi, sr, si = (floats[_VR], floats[_VI], floats[_PR], floats[_PI],
                              floats[_SR], floats[_SI])
    for q in range(_LANES):
        pr[q] = weight * floats[_COEF, q]
        pi[q] = 0.0
        sr[n + q] = 1.0
        si[n + q] = 0.0
    _prefix_products(n, vr, vi, pr, pi)
    _suffix_products(n, vr, vi, sr, si)
    _accumulate_products(n, pr, pi, sr, si, floats[_ACC_R], floats[_ACC_I])


@njit(cache=True)
def _gray_walk(ar, ai, k, binom, ints, floats, n_gray, stop):
    """Walk the Gray digits in reflected mixed-radix Gray order, accumulating every lane.

    Each step changes one digit ``c_t`` by one, i.e. flips the sign of one copy of
    ``rows[t]``: ``v -= 2 * (+-1) * A[rows[t], :k]``, and the weight changes by the
    ratio of binomials (exact, as all weights are integers below ``2^53``).
    """
    rows, top, gray = ints[_ROWS], ints[_TOP], ints[_GRAY_DIGITS]
    digit, direction = ints[_DIGIT], ints[_DIRECTION]
    n_steps = 1
    for p in range(n_gray):
        n_steps *= top[gray[p]] + 1
        digit[p] = 0
        direction[p] = 1
    weight = 1.0
    for step in range(n_steps):
        if step % _STOP_EVERY == 0 and _stop_requested(stop):
            return  # the sample is discarded
        _accumulate_all_but_one(k, weight, floats)
        if step == n_steps - 1:
            break
        p = 0  # move the first digit that can move, reversing the ones that cannot
        while True:
            new = digit[p] + direction[p]
            if 0 <= new <= top[gray[p]]:
                break
            direction[p] = -direction[p]
            p += 1
        t = gray[p]
        weight = -weight / binom[top[t], digit[p]] * binom[top[t], new]
        digit[p] = new
        _add_row(floats[_VR], ar[rows[t]], k, -2.0 * direction[p])
        _add_row(floats[_VI], ai[rows[t]], k, -2.0 * direction[p])


@njit(cache=True)
def _minor_permanents(ar, ai, k, binom, ints, floats, n_distinct, stop):
    """Glynn sums for all column-deleted minors of ``A[drawn rows, :k]``, ``k >= 2``.

    Writes ``c * Per(A[rows, {0..k-1} \\ {l}])`` for ``l < k`` to ``floats[_MINOR_R/_I]``,
    with one positive constant ``c`` shared by all ``l`` (irrelevant for sampling).  The
    drawn rows are ``ints[_ROWS, :n_distinct]`` with multiplicities ``ints[_MULT]``
    (summing to ``k - 1``); ``ar``/``ai`` are the real/imaginary parts of ``A``.
    """
    # Digit t is c_t = number of copies of rows[t] with sign -1, weighted by
    # (-1)^c_t binom(top_t, c_t).  One copy of the least repeated row keeps sign +1
    # (Glynn's halving), so that digit has top = mult - 1 instead of mult.
    mult = ints[_MULT]
    fixed = 0
    for t in range(1, n_distinct):
        if mult[t] < mult[fixed]:
            fixed = t
    for t in range(n_distinct):
        ints[_TOP, t] = mult[t] - 1 if t == fixed else mult[t]
        ints[_RADIX, t] = ints[_TOP, t] + 1
    n_lane, n_gray = _split_digits(ints, n_distinct)
    _init_lanes(ar, ai, k, binom, ints, floats, n_distinct, n_lane)
    acc_r, acc_i = floats[_ACC_R], floats[_ACC_I]
    acc_r[: k * _LANES] = 0.0
    acc_i[: k * _LANES] = 0.0
    _gray_walk(ar, ai, k, binom, ints, floats, n_gray, stop)
    for j in range(k):
        total_r = 0.0
        total_i = 0.0
        for q in range(_LANES):
            total_r += acc_r[j * _LANES + q]
            total_i += acc_i[j * _LANES + q]
        floats[_MINOR_R, j] = total_r
        floats[_MINOR_I, j] = total_i


@njit(cache=True)
def _draw_mode(ar, ai, k, floats, u):
    """Draw mode ``i`` with weight ``|sum_{l<k} A[i, l] minor[l]|^2`` using the uniform ``u``."""
    minor_r, minor_i, cumulative = floats[_MINOR_R], floats[_MINOR_I], floats[_CUMULATIVE]
    n_modes = ar.shape[0]
    total = 0.0
    for i in range(n_modes):
        zr = 0.0
        zi = 0.0
        for col in range(k):
            zr += ar[i, col] * minor_r[col] - ai[i, col] * minor_i[col]
            zi += ar[i, col] * minor_i[col] + ai[i, col] * minor_r[col]
        total += zr * zr + zi * zi
        cumulative[i] = total
    target = u * total
    last_positive = 0
    for i in range(n_modes):
        if cumulative[i] > target:
            return i
        if i > 0 and cumulative[i] > cumulative[i - 1]:
            last_positive = i
    return last_positive  # only reached through rounding when u * total == total


@njit(cache=True)
def _sample_one(unitary, cols, uniforms, binom, a_parts, ints, floats, counts, stop):
    """One Algorithm-B sample into ``counts`` (length M); ``cols`` are the permuted photon columns.

    ``a_parts`` is ``(2, M, N)`` scratch for the real and imaginary parts of ``A``.
    """
    ar, ai = a_parts[0], a_parts[1]
    rows, mult, slot = ints[_ROWS], ints[_MULT], ints[_SLOT]
    n_modes = unitary.shape[0]
    n_photons = cols.shape[0]
    for i in range(n_modes):
        counts[i] = 0
        slot[i] = -1
        for col in range(n_photons):
            ar[i, col] = unitary[i, cols[col]].real
            ai[i, col] = unitary[i, cols[col]].imag
    n_distinct = n_photons - n_photons  # an int64 variable, not the literal 0
    floats[_MINOR_R, 0] = 1.0
    floats[_MINOR_I, 0] = 0.0
    for k in range(1, n_photons + 1):
        if k > 1:
            _minor_permanents(ar, ai, k, binom, ints, floats, n_distinct, stop)
        mode = _draw_mode(ar, ai, k, floats, uniforms[k - 1])
        counts[mode] += 1
        if slot[mode] < 0:
            slot[mode] = n_distinct
            rows[n_distinct] = mode
            mult[n_distinct] = 0
            n_distinct += 1
        mult[slot[mode]] += 1


@njit(cache=True, nogil=True)
def _sample_range(unitary, cols, uniforms, int_shape, float_shape, out, stop):
    """Fill ``out[s]`` with the sample drawn from column order ``cols[s]`` and ``uniforms[s]``.

    Runs without the GIL, so several ranges can be sampled by Python threads at once, and
    returns early (leaving ``out`` partly filled) once ``stop[0]`` is set.
    """
    n_samples, n_photons = cols.shape
    binom = _binomial_table(n_photons)
    a_parts = np.empty((2, unitary.shape[0], n_photons))
    ints = np.zeros(int_shape, dtype=np.int64)
    floats = np.zeros(float_shape)
    for s in range(n_samples):
        if _stop_requested(stop):
            return
        _sample_one(unitary, cols[s], uniforms[s], binom, a_parts, ints, floats, out[s], stop)


@functools.cache
def _executor(pid, n_threads):
    """``n_threads`` threads for ``_sample_range`` in process ``pid`` (forked children differ)."""
    return ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix=f"clifford-{pid}")


def _sample_chunks(unitary, cols, uniforms, out):
    """``_sample_range`` over contiguous chunks of samples, ``NUMBA_NUM_THREADS`` at a time.

    Work of less than one call (``_CALL_WORK``) that one thread would do anyway runs on the
    calling thread. Everything else runs on worker threads in chunks of at most one call's
    work, so the calling thread only waits and handles Ctrl-C at once: it then sets the
    stop flag, waits for the running chunks to see it and re-raises. A sample's result
    depends only on its own ``cols``/``uniforms`` row, so the output is the same for any
    chunking and thread count.
    """
    n_samples, n_photons = cols.shape
    shapes = _scratch_shapes(unitary.shape[0], n_photons)
    stop = np.zeros(1, dtype=np.int64)
    per_sample = sampler_work(1, n_photons)
    n_threads = numba.config.NUMBA_NUM_THREADS
    one_thread = n_threads == 1 or n_samples < _MIN_PARALLEL_SAMPLES
    if one_thread and n_samples * per_sample <= _CALL_WORK:
        _sample_range(unitary, cols, uniforms, *shapes, out, stop)
        return
    size = max(1, min(int(_CALL_WORK // per_sample),
                      math.ceil(n_samples / (_CHUNKS_PER_THREAD * n_threads))))
    pool = _executor(os.getpid(), n_threads)
    jobs = []
    try:  # Ctrl-C while submitting too: the chunks already submitted must see the flag
        for a in range(0, n_samples, size):
            jobs.append(pool.submit(_sample_range, unitary, cols[a:a + size],
                                    uniforms[a:a + size], *shapes, out[a:a + size], stop))
        for job in jobs:
            job.result()
    except BaseException:  # KeyboardInterrupt above all: stop the workers before re-raising
        stop[0] = 1
        for job in jobs:
            job.cancel()
        wait(jobs)
        raise


# --------------------------------------------------------------------------- public API


def _validate(unitary, input_state, shots):
    """Check the arguments and return ``(U as complex128, photon columns as int64)``."""
    u = np.asarray(unitary)
    if u.ndim != 2 or u.shape[0] != u.shape[1]:
        raise ValueError(f"unitary must be a square (M, M) matrix, got shape {u.shape}")
    single = u.dtype in (np.float16, np.float32, np.complex64)
    u = np.ascontiguousarray(u, dtype=np.complex128)
    n_modes = u.shape[0]
    deviation = np.max(np.abs(u.conj().T @ u - np.eye(n_modes)), initial=0.0)
    if not deviation <= _UNITARY_ATOL["single" if single else "double"]:
        raise ValueError(f"unitary is not unitary: max |U^dagger U - I| = {deviation:.3g}")
    state = np.asarray(input_state)
    if state.ndim != 1 or len(state) != n_modes:
        raise ValueError(
            f"input_state must have one occupation per mode (length {n_modes}), got {input_state!r}"
        )
    if state.size and not np.all(np.equal(np.mod(state, 1), 0)):
        raise ValueError(f"input_state must hold integers, got {input_state!r}")
    state = state.astype(np.int64)
    if np.any(state < 0):
        raise ValueError(f"input_state must be non-negative, got {input_state!r}")
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer):
        raise ValueError(f"shots must be an integer, got {shots!r}")
    if shots < 0:
        raise ValueError(f"shots must be non-negative, got {shots}")
    return u, np.repeat(np.arange(n_modes, dtype=np.int64), state)


def clifford_sample(unitary: np.ndarray, input_state: Sequence[int], shots: int, *,
                    rng: np.random.Generator) -> np.ndarray:
    """Sample ``(shots, M)`` int64 photon patterns exactly from |Per|^2 / (prod n_i! prod m_j!).

    The probability of the output pattern ``n`` for input pattern ``m`` is
    ``|Per(U[rows(n), cols(m)])|^2 / (prod_i n_i! prod_j m_j!)`` where ``rows(n)``
    repeats output mode ``i`` ``n_i`` times and ``cols(m)`` repeats input mode ``j``
    ``m_j`` times.  Cost per sample is ``O(N 2^N)`` at worst (less when modes repeat).

    Args:
        unitary: ``(M, M)`` complex unitary, ``unitary[out_mode, in_mode]``.
        input_state: length-``M`` non-negative photon numbers per input mode.
        shots: number of samples (``>= 0``).
        rng: source of all randomness; the same seed gives the same samples for any
            number of numba threads.

    Returns:
        ``(shots, M)`` int64 array; every row sums to ``N = sum(input_state)``.

    Raises:
        ValueError: for a non-square or non-unitary ``unitary``, an ``input_state`` of
            the wrong length or with negative / non-integer entries, or a bad ``shots``.
    """
    u, photon_cols = _validate(unitary, input_state, shots)
    n_modes = u.shape[0]
    n_photons = photon_cols.shape[0]
    check_sampler(shots, n_photons)
    out = np.zeros((shots, n_modes), dtype=np.int64)
    if n_photons == 0 or shots == 0:
        return out
    for start in range(0, shots, _BATCH):
        stop = min(start + _BATCH, shots)
        cols = rng.permuted(np.broadcast_to(photon_cols, (stop - start, n_photons)), axis=1)
        uniforms = rng.random((stop - start, n_photons))
        _sample_chunks(u, np.ascontiguousarray(cols), uniforms, out[start:stop])
    return out
