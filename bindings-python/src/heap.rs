//! The sampled allocation hook: Python's MEM and OBJ allocators wrapped with
//! `PyMem_SetAllocator`, feeding the core's live-heap profile (`HeapProfile`).
//!
//! Every allocation costs one countdown of the core's Poisson sampler; a sampled one (about
//! one per `profile.sample_bytes` allocated) captures the Python stack and is recorded with its
//! address; every free costs one lock-free filter probe, and only a probable sampled block
//! takes the profile's lock. Both domains run under the GIL, so the hook and
//! `start`/`stop` never overlap, and a thread-local guard keeps the stack capture (which
//! allocates) from sampling itself.
//!
//! ABI: `PyMem_SetAllocator`, `PyMem_GetAllocator` and `PyMemAllocatorEx` are not in the
//! limited API, but their layout has been fixed since 3.5 (`ctx`, then `malloc`, `calloc`,
//! `realloc`, `free`; domains RAW = 0, MEM = 1, OBJ = 2), and the functions are exported by
//! every CPython 3.9-3.13 (tracemalloc is built on them). This abi3 wheel declares them here
//! and resolves them when the module loads, as it does every other C-API symbol; the same holds
//! for `PyFrame_GetCode`/`PyFrame_GetBack` (3.9+) and `PyGILState_Check`. The tests run the
//! hook on this machine's interpreter; `docs/profile.md` says which versions were run.

use std::cell::{Cell, RefCell};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use leaksense_core::profile::{FrameRef, HeapProfile};
use pyo3::ffi;

#[repr(C)]
#[derive(Clone, Copy)]
struct PyMemAllocatorEx {
    ctx: *mut c_void,
    malloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    calloc: Option<unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void>,
    realloc: Option<unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void>,
    free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
}

const DOMAIN_MEM: c_int = 1;
const DOMAIN_OBJ: c_int = 2;

unsafe extern "C" {
    fn PyMem_GetAllocator(domain: c_int, allocator: *mut PyMemAllocatorEx);
    fn PyMem_SetAllocator(domain: c_int, allocator: *mut PyMemAllocatorEx);
    fn PyGILState_Check() -> c_int;
    fn PyFrame_GetCode(frame: *mut ffi::PyFrameObject) -> *mut ffi::PyObject;
    fn PyFrame_GetBack(frame: *mut ffi::PyFrameObject) -> *mut ffi::PyFrameObject;
    fn PyUnicode_AsUTF8AndSize(s: *mut ffi::PyObject, size: *mut ffi::Py_ssize_t) -> *const c_char;
    fn PyThreadState_GetFrame(tstate: *mut ffi::PyThreadState) -> *mut ffi::PyFrameObject;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// `PyGC_Disable`/`PyGC_Enable` (3.10+), looked up once at `start` so the abi3 wheel still
/// loads on 3.9. On 3.11, `PyThreadState_GetFrame`/`PyFrame_GetBack` allocate frame objects,
/// and a GC-object allocation there runs a collection synchronously when the threshold is
/// crossed: finalizers and weakref callbacks would then run inside an allocation the
/// interpreter is in the middle of (a dict resize, a frame being torn down), which crashes.
/// The collector is suspended while a stack is captured; 3.9 and 3.10 hand out existing frame
/// objects, and 3.12+ only schedules the collection, so there it is merely a precaution.
type GcSwitch = unsafe extern "C" fn() -> c_int;
static GC_DISABLE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static GC_ENABLE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

fn resolve_gc_switches() {
    // SAFETY: dlsym with RTLD_DEFAULT (null on glibc and musl) and NUL-terminated names.
    unsafe {
        GC_DISABLE.store(
            dlsym(std::ptr::null_mut(), c"PyGC_Disable".as_ptr()),
            Ordering::Release,
        );
        GC_ENABLE.store(
            dlsym(std::ptr::null_mut(), c"PyGC_Enable".as_ptr()),
            Ordering::Release,
        );
    }
}

/// Runs `f` with the cyclic collector suspended (where the interpreter can suspend it).
fn without_gc<T>(f: impl FnOnce() -> T) -> T {
    let (disable, enable) = (
        GC_DISABLE.load(Ordering::Acquire),
        GC_ENABLE.load(Ordering::Acquire),
    );
    if disable.is_null() || enable.is_null() {
        return f();
    }
    // SAFETY: both pointers are CPython's PyGC_Disable/PyGC_Enable (no arguments, return the
    // previous state); the GIL is held by the caller.
    let (disable, enable) = unsafe {
        (
            std::mem::transmute::<*mut c_void, GcSwitch>(disable),
            std::mem::transmute::<*mut c_void, GcSwitch>(enable),
        )
    };
    let was_enabled = unsafe { disable() } != 0;
    let out = f();
    if was_enabled {
        unsafe { enable() };
    }
    out
}

/// The allocators wrapped, per domain (index 0 = MEM, 1 = OBJ); each hook's `ctx` points at
/// its domain's entry. Written only by `start` under the GIL, before the hooks are set.
static mut ORIGINAL: [PyMemAllocatorEx; 2] = [EMPTY; 2];
const EMPTY: PyMemAllocatorEx = PyMemAllocatorEx {
    ctx: std::ptr::null_mut(),
    malloc: None,
    calloc: None,
    realloc: None,
    free: None,
};

/// The profile fed, from `Arc::into_raw`; null when stopped (the hooks then only forward).
static PROFILE: AtomicPtr<HeapProfile> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// Set while this thread captures a stack (which allocates).
    static BUSY: Cell<bool> = const { Cell::new(false) };
    /// Requests in flight on this thread, and the route of the current one.
    static IN_FLIGHT: Cell<u32> = const { Cell::new(0) };
    static ROUTE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A request began on this thread (its route is set later, `set_route`).
pub fn request_begun() {
    IN_FLIGHT.with(|n| n.set(n.get().saturating_add(1)));
}

/// A request ended on this thread.
pub fn request_ended() {
    IN_FLIGHT.with(|n| n.set(n.get().saturating_sub(1)));
    if IN_FLIGHT.with(Cell::get) == 0 {
        ROUTE.with(|r| r.borrow_mut().clear());
    }
}

/// Names the route of the request in flight on this thread.
pub fn set_route(route: &str) {
    ROUTE.with(|r| {
        let mut r = r.borrow_mut();
        r.clear();
        r.push_str(route);
    });
}

/// The route to tag a sample with: only when exactly one request is in flight on this thread
/// (threaded WSGI servers); with several (asyncio tasks interleaving on one thread) no route
/// can be told, so none is given.
fn with_route<T>(f: impl FnOnce(Option<&str>) -> T) -> T {
    if IN_FLIGHT.with(Cell::get) != 1 {
        return f(None);
    }
    ROUTE.with(|r| match r.try_borrow() {
        Ok(r) if !r.is_empty() => f(Some(r.as_str())),
        _ => f(None),
    })
}

/// A `str` attribute of `obj` as UTF-8; its reference goes to `owned` (released by the
/// caller once the text is no longer used).
///
/// # Safety
/// The GIL is held; `obj` is a live object.
unsafe fn str_attr<'a>(
    obj: *mut ffi::PyObject,
    name: &CStr,
    owned: &mut Vec<*mut ffi::PyObject>,
) -> Option<&'a str> {
    unsafe {
        let v = ffi::PyObject_GetAttrString(obj, name.as_ptr());
        if v.is_null() {
            return None;
        }
        owned.push(v);
        let mut len: ffi::Py_ssize_t = 0;
        let p = PyUnicode_AsUTF8AndSize(v, &mut len);
        if p.is_null() {
            return None;
        }
        std::str::from_utf8(std::slice::from_raw_parts(p.cast::<u8>(), len as usize)).ok()
    }
}

/// Captures the Python stack (leaf first, at most `depth` frames) and records the sampled
/// block. The pending exception, if any, is kept aside: the getattr calls must not clobber it.
///
/// # Safety
/// The GIL is held; `profile` is live.
unsafe fn record(profile: &HeapProfile, ptr: *mut c_void, size: usize) {
    unsafe {
        let (mut t, mut v, mut tb) = (
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        ffi::PyErr_Fetch(&mut t, &mut v, &mut tb);
        let depth = profile.config().max_depth;
        let mut frames: Vec<FrameRef<'_>> = Vec::with_capacity(depth.min(64));
        let mut owned: Vec<*mut ffi::PyObject> = Vec::with_capacity(2 * depth.min(64));
        // A strong reference to the innermost complete frame (PyThreadState_GetFrame skips a
        // frame still being set up, which PyEval_GetFrame may hand out mid-initialisation).
        // Not PyThreadState_Get, which aborts the process when there is none.
        let tstate = ffi::PyGILState_GetThisThreadState();
        let mut frame = if tstate.is_null() {
            std::ptr::null_mut()
        } else {
            PyThreadState_GetFrame(tstate)
        };
        while !frame.is_null() && frames.len() < depth {
            let code = PyFrame_GetCode(frame);
            let line = ffi::PyFrame_GetLineNumber(frame).max(0) as u32;
            if !code.is_null() {
                let function = str_attr(code, c"co_name", &mut owned);
                let file = str_attr(code, c"co_filename", &mut owned);
                if let (Some(function), Some(file)) = (function, file) {
                    frames.push(FrameRef {
                        function,
                        file,
                        line,
                    });
                }
                ffi::Py_DECREF(code);
            }
            let back = PyFrame_GetBack(frame);
            ffi::Py_DECREF(frame.cast());
            frame = back;
        }
        if !frame.is_null() {
            ffi::Py_DECREF(frame.cast());
        }
        ffi::PyErr_Clear();
        if !frames.is_empty() {
            with_route(|route| profile.record_alloc(ptr as u64, size as u64, &frames, route));
        }
        drop(frames);
        for o in owned {
            ffi::Py_DECREF(o);
        }
        ffi::PyErr_Restore(t, v, tb);
    }
}

/// Samples a fresh allocation of `size` bytes at `ptr`.
#[inline]
fn on_alloc(ptr: *mut c_void, size: usize) {
    let p = PROFILE.load(Ordering::Acquire);
    if p.is_null() || ptr.is_null() {
        return;
    }
    // SAFETY: non-null PROFILE is a live Arc (cleared only under the GIL, which we hold).
    let profile = unsafe { &*p };
    if !profile.sampler().sample(size) || BUSY.with(Cell::get) {
        return;
    }
    // SAFETY: the MEM and OBJ domains are only called with the GIL held; checked anyway,
    // since capturing a stack without it would be undefined.
    // No capture once the interpreter is finalizing: its thread states and frames go away
    // while the allocators are still called.
    if unsafe { PyGILState_Check() } == 0 || unsafe { ffi::Py_IsInitialized() } == 0 {
        return;
    }
    BUSY.with(|b| b.set(true));
    // SAFETY: the GIL is held and `profile` is live.
    without_gc(|| unsafe { record(profile, ptr, size) });
    BUSY.with(|b| b.set(false));
}

#[inline]
fn on_free(ptr: *mut c_void) {
    let p = PROFILE.load(Ordering::Acquire);
    if p.is_null() || ptr.is_null() {
        return;
    }
    // SAFETY: as in `on_alloc`.
    let profile = unsafe { &*p };
    if profile.may_be_sampled(ptr as u64) {
        profile.record_free(ptr as u64);
    }
}

/// The original allocator behind a hook's `ctx`.
///
/// # Safety
/// `ctx` is one of the `ORIGINAL` entries.
unsafe fn original<'a>(ctx: *mut c_void) -> &'a PyMemAllocatorEx {
    unsafe { &*(ctx as *const PyMemAllocatorEx) }
}

unsafe extern "C" fn hook_malloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: the hooks are installed with ctx = &ORIGINAL[i], whose functions are set.
    let o = unsafe { original(ctx) };
    let ptr = o
        .malloc
        .map_or(std::ptr::null_mut(), |f| unsafe { f(o.ctx, size) });
    on_alloc(ptr, size);
    ptr
}

unsafe extern "C" fn hook_calloc(ctx: *mut c_void, n: usize, size: usize) -> *mut c_void {
    // SAFETY: as in hook_malloc.
    let o = unsafe { original(ctx) };
    let ptr = o
        .calloc
        .map_or(std::ptr::null_mut(), |f| unsafe { f(o.ctx, n, size) });
    on_alloc(ptr, n.saturating_mul(size));
    ptr
}

unsafe extern "C" fn hook_realloc(ctx: *mut c_void, old: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: as in hook_malloc.
    let o = unsafe { original(ctx) };
    let ptr = o
        .realloc
        .map_or(std::ptr::null_mut(), |f| unsafe { f(o.ctx, old, size) });
    if !ptr.is_null() {
        // The old block is gone (moved or resized); the new one is a fresh allocation.
        on_free(old);
        on_alloc(ptr, size);
    }
    ptr
}

unsafe extern "C" fn hook_free(ctx: *mut c_void, ptr: *mut c_void) {
    on_free(ptr);
    // SAFETY: as in hook_malloc.
    let o = unsafe { original(ctx) };
    if let Some(f) = o.free {
        unsafe { f(o.ctx, ptr) };
    }
}

fn hook_for(i: usize) -> PyMemAllocatorEx {
    PyMemAllocatorEx {
        // SAFETY: only the address is taken; the entry lives for the whole process.
        ctx: unsafe { std::ptr::addr_of_mut!(ORIGINAL[i]) }.cast(),
        malloc: Some(hook_malloc),
        calloc: Some(hook_calloc),
        realloc: Some(hook_realloc),
        free: Some(hook_free),
    }
}

fn ours(a: &PyMemAllocatorEx) -> bool {
    a.malloc.is_some_and(|f| {
        std::ptr::fn_addr_eq(
            f,
            hook_malloc as unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
        )
    })
}

/// Feeds `profile` from the MEM and OBJ allocators from now on (wrapping them once; a later
/// call only switches the profile). Must be called with the GIL held.
pub fn start(_py: pyo3::Python<'_>, profile: Arc<HeapProfile>) {
    resolve_gc_switches();
    let old = PROFILE.swap(Arc::into_raw(profile).cast_mut(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: from Arc::into_raw; no hook runs now (we hold the GIL).
        drop(unsafe { Arc::from_raw(old) });
    }
    for (i, domain) in [DOMAIN_MEM, DOMAIN_OBJ].into_iter().enumerate() {
        let mut current = EMPTY;
        // SAFETY: the GIL is held; `current` is a valid out-parameter.
        unsafe { PyMem_GetAllocator(domain, &mut current) };
        if ours(&current) {
            continue;
        }
        // SAFETY: the GIL is held, and no hook of this domain reads ORIGINAL[i] yet.
        unsafe {
            ORIGINAL[i] = current;
            let mut hook = hook_for(i);
            PyMem_SetAllocator(domain, &mut hook);
        }
    }
}

/// Stops feeding the profile. The allocators are restored when the hooks are still the top
/// ones; if another hook (tracemalloc) wrapped ours since, ours stays below it, forwarding
/// only. Must be called with the GIL held.
pub fn stop(_py: pyo3::Python<'_>) {
    let old = PROFILE.swap(std::ptr::null_mut(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: from Arc::into_raw; no hook runs now (we hold the GIL).
        drop(unsafe { Arc::from_raw(old) });
    }
    for (i, domain) in [DOMAIN_MEM, DOMAIN_OBJ].into_iter().enumerate() {
        let mut current = EMPTY;
        // SAFETY: the GIL is held.
        unsafe {
            PyMem_GetAllocator(domain, &mut current);
            if ours(&current) {
                let mut original = ORIGINAL[i];
                PyMem_SetAllocator(domain, &mut original);
            }
        }
    }
}

/// [`stop`], when the hooks feed `profile` (another monitor's start since has taken them over).
pub fn stop_if(py: pyo3::Python<'_>, profile: &Arc<HeapProfile>) {
    if std::ptr::eq(PROFILE.load(Ordering::Acquire), Arc::as_ptr(profile)) {
        stop(py);
    }
}

/// Whether the hooks feed a profile now.
pub fn running() -> bool {
    !PROFILE.load(Ordering::Acquire).is_null()
}
