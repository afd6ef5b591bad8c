//! Fork safety. `fork()` copies every lock into the child in the state it had at that instant,
//! but only the forking thread: a lock another thread held (a request in `end`, a `report()`,
//! the sampler mid-sample) stays locked in the child forever, and the child's next call that
//! takes it deadlocks. gunicorn, Celery and multiprocessing fork from threaded parents.
//!
//! The core therefore registers `pthread_atfork` handlers once (at the first monitor or procfs
//! probe): [`prepare`] takes every lock of every live monitor (sampler slot, state, stop flag,
//! the tracker's shards, slot ring and route-insert lock) plus the core's global locks, in the
//! same order the code takes them, so the fork happens at an instant when no other thread is
//! inside any of them; [`parent`] and [`child`] release them. In the child, [`child`] also
//! forgets the sampler thread, which did not survive (`is_running()` is false; a binding that
//! wants sampling there calls `start()` again), and re-points the kept-open `/proc/self/*` files
//! at the child, since a file opened as `/proc/self/statm` names the parent's pid forever.
//!
//! Rule this relies on: the core never calls out (a binding callback, a user closure) while it
//! holds one of these locks, so every holder finishes without help from the forking thread.
//! `posix_spawn`, `vfork` and Go's `syscall.ForkExec` run no atfork handlers; they need none,
//! since the child runs no leaksense code before `exec`.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

/// A lock guard of any type, kept until the fork is over.
pub(crate) type Guard<'a> = Box<dyn Held + 'a>;

/// Anything held across a fork (a marker: guards are only ever dropped).
pub(crate) trait Held {}
impl<T: ?Sized> Held for T {}

/// An object whose locks must not be copied into a child while held.
pub(crate) trait ForkLocks: Send + Sync {
    /// Takes every lock of the object, in the order its code nests them.
    fn lock_all(&self) -> Vec<Guard<'_>>;
    /// In the child, after every lock is released: forget what did not survive the fork.
    fn reset_in_child(&self);
}

// A poisoned lock only means a panic elsewhere; its data is still what the fork must guard.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

static OBJECTS: Mutex<Vec<Weak<dyn ForkLocks>>> = Mutex::new(Vec::new());
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// What [`prepare`] holds until [`parent`] or [`child`]. Fields drop in declaration order: the
/// object guards first, then the global locks, and the objects last: a monitor dropped by its
/// owner during the fork has its last reference here, and dropping it closes its kept-open
/// files, which takes the file registry's lock (held here until then: a self-deadlock in
/// `parent`, found by two tests forking and dropping monitors at once).
struct Holding {
    _guards: Vec<Guard<'static>>,
    #[cfg(target_os = "linux")]
    files: MutexGuard<'static, Vec<self_files::Entry>>,
    _threads: Guard<'static>,
    _objects: MutexGuard<'static, Vec<Weak<dyn ForkLocks>>>,
    owners: Vec<Arc<dyn ForkLocks>>,
}

thread_local! {
    // prepare, parent and child all run on the forking thread. The depth makes a nested
    // prepare (a binding's own hook around a libc fork) harmless.
    static HELD: RefCell<(usize, Option<Holding>)> = const { RefCell::new((0, None)) };
}

/// Registers a monitor's shared state for the fork handlers (and installs them).
pub(crate) fn register(object: Weak<dyn ForkLocks>) {
    install();
    let mut objects = lock(&OBJECTS);
    objects.retain(|w| w.strong_count() > 0);
    objects.push(object);
}

/// Installs the `pthread_atfork` handlers, once per process. An atomic flag rather than a
/// `Once`: a fork while another thread runs a `Once` leaves it "running" in the child forever.
pub(crate) fn install() {
    #[cfg(unix)]
    if !INSTALLED.swap(true, Ordering::AcqRel) {
        extern "C" fn on_prepare() {
            prepare();
        }
        extern "C" fn on_parent() {
            parent();
        }
        extern "C" fn on_child() {
            child();
        }
        // SAFETY: the handlers are plain functions of this library, which is never unloaded
        // while the process runs (glibc drops the handlers of an unloaded object itself).
        unsafe { libc::pthread_atfork(Some(on_prepare), Some(on_parent), Some(on_child)) };
    }
}

/// Whether the `pthread_atfork` handlers are installed in this process.
pub fn installed() -> bool {
    INSTALLED.load(Ordering::Acquire)
}

/// Takes every leaksense lock before a fork. Called by the core's `pthread_atfork` handler;
/// call it yourself only around a fork that bypasses libc's `fork()`, and follow it with
/// [`parent`] or [`child`] on the same thread.
pub fn prepare() {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        h.0 += 1;
        if h.0 > 1 {
            return;
        }
        let objects = lock(&OBJECTS);
        let owners: Vec<Arc<dyn ForkLocks>> = objects.iter().filter_map(Weak::upgrade).collect();
        let mut guards = Vec::new();
        for owner in &owners {
            for guard in owner.lock_all() {
                // SAFETY: the guard borrows from `*owner`, which `Holding::owners` keeps alive
                // and which is dropped only after `Holding::guards` (field order).
                guards.push(unsafe { std::mem::transmute::<Guard<'_>, Guard<'static>>(guard) });
            }
        }
        // The global locks last: code may take them while holding an object's lock, never the
        // other way round.
        h.1 = Some(Holding {
            _guards: guards,
            #[cfg(target_os = "linux")]
            files: lock(&self_files::FILES),
            _threads: crate::requests::thread_ids_guard(),
            _objects: objects,
            owners,
        });
    });
}

/// Releases what [`prepare`] took, in the parent after a fork.
pub fn parent() {
    drop(release());
}

/// Releases what [`prepare`] took, in the child after a fork, and resets what did not survive
/// it: the sampler threads, and the kept-open `/proc/self` files.
pub fn child() {
    let Some(holding) = release() else {
        return;
    };
    #[cfg(target_os = "linux")]
    self_files::reopen(&holding.files);
    let owners = holding.owners.clone();
    drop(holding);
    for owner in owners {
        owner.reset_in_child();
    }
}

fn release() -> Option<Holding> {
    HELD.with(|h| {
        let mut h = h.borrow_mut();
        if h.0 == 0 {
            return None;
        }
        h.0 -= 1;
        if h.0 > 0 { None } else { h.1.take() }
    })
}

/// Files opened by a `/proc/self/...` path, which name the opening process forever: after a
/// fork the child would read its parent's memory through them.
#[cfg(target_os = "linux")]
pub(crate) mod self_files {
    use std::ffi::CStr;
    use std::fs::File;
    use std::os::fd::{AsRawFd, RawFd};
    use std::sync::Mutex;

    use super::lock;

    pub(crate) type Entry = (RawFd, &'static CStr);

    pub(super) static FILES: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

    /// A kept-open `/proc/self/...` file that a forked child re-opens for itself.
    #[derive(Debug)]
    pub(crate) struct SelfFile {
        file: File,
    }

    impl SelfFile {
        /// Opens `path` read-only and registers it.
        pub(crate) fn open(path: &'static CStr) -> std::io::Result<SelfFile> {
            super::install();
            let name = path.to_str().map_err(std::io::Error::other)?;
            let file = File::open(name)?;
            lock(&FILES).push((file.as_raw_fd(), path));
            Ok(SelfFile { file })
        }
    }

    impl std::ops::Deref for SelfFile {
        type Target = File;
        fn deref(&self) -> &File {
            &self.file
        }
    }

    impl Drop for SelfFile {
        // Unregistered before the descriptor closes (the field drops after this body): the
        // number may be reused at once, and a child must never re-point someone else's file.
        fn drop(&mut self) {
            let fd = self.file.as_raw_fd();
            let mut files = lock(&FILES);
            if let Some(i) = files.iter().position(|(f, _)| *f == fd) {
                files.swap_remove(i);
            }
        }
    }

    /// In the child: opens each path again (now naming the child) onto the same descriptor
    /// number, so every `File` that holds it reads the child from now on. open, dup3 and close
    /// are async-signal-safe.
    pub(super) fn reopen(files: &[Entry]) {
        for &(fd, path) in files {
            // SAFETY: `path` is NUL-terminated; `fd` is open (registered entries are removed
            // before they close, and the registry lock was held across the fork).
            unsafe {
                let new = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                if new >= 0 {
                    libc::dup3(new, fd, libc::O_CLOEXEC);
                    libc::close(new);
                }
            }
        }
    }
}
