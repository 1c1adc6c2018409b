//! Fault injection: opencl (compiled only with the `opencl` feature).
//!
//! User code runs on an executor's device thread in done callbacks: it may panic there, or call
//! back into the executor (submit, build, wait, shut it down, drop it). None of it may cost the
//! executor its thread, hang it, or hang its drop. A kernel that fails on the device may not
//! leave a buffer that later reads report as good. Tests skip without an OpenCL platform unless
//! `GILFREE_REQUIRE_OPENCL=1`.

use super::common::*;
use gilfree::FutureError;
use gilfree::opencl::{OpenClError, OpenClExecutor};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

/// An executor on the default device; `None` without an OpenCL platform (a failure when
/// `GILFREE_REQUIRE_OPENCL=1`).
fn executor() -> Option<OpenClExecutor> {
    match OpenClExecutor::new() {
        Ok(exec) => Some(exec),
        Err(err @ OpenClError::NoPlatform { .. }) => {
            assert!(
                std::env::var("GILFREE_REQUIRE_OPENCL").map_or(true, |v| v != "1"),
                "GILFREE_REQUIRE_OPENCL=1, but: {err}"
            );
            None
        }
        Err(err) => panic!("OpenClExecutor::new() failed: {err}"),
    }
}

/// Adds `f` as a done callback of a job that is still running when it is added, so that `f`
/// runs on `exec`'s device thread (retrying while a job finishes first: its callback then runs
/// at once on this thread, where `f` is not called). Returns once `f` has started there.
fn on_device(exec: &OpenClExecutor, f: impl FnOnce() + Send + 'static) {
    let f = Arc::new(Mutex::new(Some(f)));
    let data = vec![3u8; 8 << 20]; // a copy long enough for the callback to be added first
    let me = thread::current().id();
    for _ in 0..50 {
        let (started_tx, started) = mpsc::channel();
        let here = Arc::new(AtomicBool::new(false));
        let (f2, here2) = (Arc::clone(&f), Arc::clone(&here));
        exec.to_device(&data).add_done_callback(move |_| {
            if thread::current().id() == me {
                here2.store(true, SeqCst);
                return;
            }
            let _ = started_tx.send(());
            let f = f2.lock().unwrap().take().expect("called once");
            f();
        });
        if here.load(SeqCst) {
            continue;
        }
        started
            .recv_timeout(DEADLINE)
            .expect("the callback did not start on the device thread");
        return;
    }
    panic!("every job finished before its done callback could be added");
}

/// A done callback that panics on the device thread costs nothing: the executor keeps its
/// thread, the work queued after it runs, a second panicking callback is no different, and
/// dropping the executor returns.
#[test]
fn panicking_done_callback_on_the_device_thread() {
    with_watchdog(|| {
        let Some(exec) = executor() else { return };
        for _ in 0..2 {
            on_device(&exec, || {
                panic!("a done callback panics on the device thread")
            });
        }
        let buf = exec.to_device(&[1i32, 2, 3]).into_result().unwrap();
        // SAFETY: the operation touches `x` at `i` only.
        let bump = unsafe { exec.elementwise("int *x", "x[i] += 10") }.unwrap();
        exec.submit(bump.call((&buf,))).result().unwrap();
        assert_eq!(buf.to_host().into_result().unwrap(), [11, 12, 13]);
        drop(exec);
    });
}

/// A done callback that re-enters its executor: what only queues work (`to_device`, `submit`,
/// `to_host`, a build already cached) is queued and runs after the callback; what would wait
/// for the device thread (a first build, any wait for one of its futures) is a RuntimeError at
/// once. Nothing hangs, and the executor's drop returns.
#[test]
fn done_callback_that_reenters_the_executor() {
    with_watchdog(|| {
        let Some(exec) = executor() else { return };
        let exec = Arc::new(exec);
        // SAFETY: the operation touches `x` at `i` only.
        let bump = unsafe { exec.elementwise("int *x", "x[i] += 1") }.unwrap();
        let (tx, rx) = mpsc::channel();
        let inner = Arc::clone(&exec);
        on_device(&exec, move || {
            let buf = inner.to_device(&[1i32, 2]);
            // SAFETY: cached source: touches `x` at `i` only.
            let cached = unsafe { inner.elementwise("int *x", "x[i] += 1") };
            // SAFETY: a new source: touches `x` at `i` only.
            let first_build = unsafe { inner.elementwise("int *x", "x[i] -= 1") }.err();
            let waited = buf.result().err();
            let _ = tx.send((buf, cached, first_build, waited));
        });
        let (buf, cached, first_build, waited) = rx.recv_timeout(DEADLINE).expect("callback");
        for refused in [first_build, waited.map(OpenClError::from)] {
            assert!(
                matches!(refused, Some(OpenClError::RuntimeError { .. })),
                "{refused:?}"
            );
        }
        let buf = buf.into_result().unwrap();
        exec.submit(cached.unwrap().call((&buf,))).result().unwrap();
        exec.submit(bump.call((&buf,))).result().unwrap();
        assert_eq!(buf.to_host().into_result().unwrap(), [3, 4]);
        drop(exec);
    });
}

/// A done callback that shuts its executor down, or drops its last handle, on the device
/// thread: that cannot join the thread it runs on, so it returns, and the device thread still
/// finishes the work queued before (its futures complete) and then ends.
#[test]
fn done_callback_that_shuts_down_or_drops_the_executor() {
    with_watchdog(|| {
        let Some(exec) = executor() else { return };
        let exec = Arc::new(exec);
        let (tx, rx) = mpsc::channel();
        let inner = Arc::clone(&exec);
        on_device(&exec, move || {
            inner.shutdown(true, false);
            let _ = tx.send(());
        });
        let queued = exec.to_device(&[5u8; 16]);
        rx.recv_timeout(DEADLINE)
            .expect("shutdown inside a callback hung");
        // Submitted after shutdown (or before it, then finished): never lost, never hung.
        let _ = queued.result_timeout(DEADLINE);
        assert!(queued.done());

        let Some(exec) = executor() else { return };
        let exec = Arc::new(exec);
        let queued = exec.to_device(&[1u16; 4]);
        let (tx, rx) = mpsc::channel();
        let last = Arc::clone(&exec);
        on_device(&exec, move || {
            // Wait until the test has dropped its handle, so this drop is the last.
            poll_until("the test's handle to go", || Arc::strong_count(&last) == 1);
            drop(last);
            let _ = tx.send(());
        });
        drop(exec);
        rx.recv_timeout(DEADLINE)
            .expect("dropping the executor inside a callback hung");
        assert_eq!(queued.result_timeout(DEADLINE).map(|b| b.len()), Ok(4));
    });
}

/// A kernel that fails on the device (work groups of 64 over a range of 100) followed by work
/// that depends on its output: every read and every consumer gets the kernel's error (none
/// returns the old contents as `Ok`), the consumers' outputs carry it on, buffers the failed
/// kernel did not write stay good, and an overwrite makes its output good again.
#[test]
fn failing_kernel_followed_by_dependent_reads() {
    with_watchdog(|| {
        let Some(exec) = executor() else { return };
        // SAFETY: `fill` writes `v` at its global id, over ranges of at most 128 on 128 items;
        // the elementwise and reduction code index their buffers at `i` only.
        let (fill, plus, sum) = unsafe {
            (
                exec.program("__kernel void fill(__global int *v) { v[get_global_id(0)] = 7; }")
                    .and_then(|p| p.kernel("fill"))
                    .unwrap(),
                exec.elementwise("const int *x, int *y", "y[i] = x[i] + 1")
                    .unwrap(),
                exec.reduction::<i32>("0", "a + b", "x[i]", "const int *x")
                    .unwrap(),
            )
        };
        let v = exec.zeros::<i32>(128).into_result().unwrap();
        let w = exec.zeros::<i32>(128).into_result().unwrap();
        let other = exec.to_device(&[2i32; 128]).into_result().unwrap();
        // Queued back to back, before the failure is known.
        let failed = exec.submit(fill.call((&v,)).range(100).local_size(64));
        let read = v.to_host();
        let derived = exec.submit(plus.call((&v, &w)));
        let read_derived = w.to_host();
        let total = exec.submit(sum.call((&v,)));
        let good = exec.submit(sum.call((&other,)));
        let error = match failed.result() {
            Err(err) => err.downcast_ref::<OpenClError>().cloned(),
            Ok(run) => panic!("expected the launch to fail, got {run:?}"),
        }
        .expect("an OpenClError");
        for result in [
            read.result().map(drop),
            derived.result().map(drop),
            read_derived.result().map(drop),
            total.result().map(drop),
        ] {
            assert_eq!(result, Err(FutureError::from(error.clone())));
        }
        assert_eq!(good.into_result(), Ok(256));
        v.write(&[1; 128]).result().unwrap();
        exec.submit(plus.call((&v, &w)).range(128))
            .result()
            .expect_err("`w` stays failed until it is overwritten");
        w.write(&[0; 128]).result().unwrap();
        exec.submit(plus.call((&v, &w))).result().unwrap();
        assert_eq!(w.to_host().into_result().unwrap(), [2; 128]);
    });
}
