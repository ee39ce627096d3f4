//! A scene graph: shared objects (`Arc<T>`) that Python and other Rust
//! objects hold at once — sprites keep their parent scene, a layer keeps its
//! sprites — and objects passed as parameters (`&T`, `&mut T`).

use ffi_export::export;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

static LIVE_SCENES: AtomicUsize = AtomicUsize::new(0);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A scene: shared by Python and by every sprite in it. It moves through
/// its own lock (`&self` methods), as every shared object does.
pub struct Scene {
    name: String,
    offset: Mutex<(f64, f64)>,
}

impl Drop for Scene {
    fn drop(&mut self) {
        LIVE_SCENES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A scene: shared by Python and by every sprite in it.
#[export]
impl Scene {
    /// A scene at the origin.
    pub fn new(name: &str) -> Arc<Scene> {
        LIVE_SCENES.fetch_add(1, Ordering::SeqCst);
        Arc::new(Scene {
            name: name.to_owned(),
            offset: Mutex::new((0.0, 0.0)),
        })
    }

    /// Its name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Moves the scene (and so every sprite in it).
    pub fn move_to(&self, x: f64, y: f64) {
        *lock(&self.offset) = (x, y);
    }

    /// How many scenes are alive.
    pub fn live() -> usize {
        LIVE_SCENES.load(Ordering::SeqCst)
    }
}

/// A sprite: keeps an `Arc` of its parent scene.
pub struct Sprite {
    name: String,
    parent: Arc<Scene>,
    position: (f64, f64),
}

/// A sprite: keeps an `Arc` of its parent scene.
#[export]
impl Sprite {
    /// A sprite at `(x, y)` in `parent`.
    pub fn new(name: &str, parent: Arc<Scene>, x: f64, y: f64) -> Arc<Sprite> {
        Arc::new(Sprite {
            name: name.to_owned(),
            parent,
            position: (x, y),
        })
    }

    /// Its name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Its scene: the same one Python passed in.
    pub fn parent(&self) -> Arc<Scene> {
        self.parent.clone()
    }

    /// Its position in the world (the scene's offset added).
    pub fn world(&self) -> (f64, f64) {
        let (x, y) = *lock(&self.parent.offset);
        (x + self.position.0, y + self.position.1)
    }
}

/// Sprites drawn together: the same `Arc`s to every caller.
pub struct Layer {
    sprites: Mutex<Vec<Arc<Sprite>>>,
}

/// Sprites drawn together: the same `Arc`s to every caller.
#[export]
impl Layer {
    /// An empty layer.
    pub fn new() -> Arc<Layer> {
        Arc::new(Layer {
            sprites: Mutex::new(Vec::new()),
        })
    }

    /// Adds a sprite; returns how many the layer holds.
    pub fn add(&self, sprite: Arc<Sprite>) -> usize {
        let mut sprites = lock(&self.sprites);
        sprites.push(sprite);
        sprites.len()
    }

    /// The sprites (shared, not copied).
    pub fn sprites(&self) -> Vec<Arc<Sprite>> {
        lock(&self.sprites).clone()
    }
}

/// A drawing: owned by its Python object, changed by `&mut self` methods.
#[derive(Default)]
pub struct Canvas {
    lines: Vec<String>,
}

/// A drawing: owned by its Python object, changed by `&mut self` methods.
#[export]
impl Canvas {
    /// An empty canvas.
    pub fn new() -> Canvas {
        Canvas::default()
    }

    /// Draws `sprite` (borrowed for the call); returns the line count.
    pub fn draw(&mut self, sprite: &Sprite) -> usize {
        let (x, y) = sprite.world();
        self.lines.push(format!("{} at ({x}, {y})", sprite.name));
        self.lines.len()
    }

    /// Appends the lines of `other` (borrowed, unchanged).
    pub fn merge(&mut self, other: &Canvas) -> usize {
        self.lines.extend(other.lines.iter().cloned());
        self.lines.len()
    }

    /// The lines drawn.
    pub fn lines(&self) -> Vec<String> {
        self.lines.clone()
    }
}
