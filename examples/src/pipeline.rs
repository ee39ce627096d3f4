//! A pipeline builder taking ownership of its stages: objects moved into
//! Rust by value (`Stage` parameters, `Vec<Stage>`, a record holding
//! stages). The Python objects close once Rust owns the values; a refused
//! call moves nothing.

use ffi_export::export;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static LIVE_STAGES: AtomicUsize = AtomicUsize::new(0);

/// One step of a pipeline: multiplies its input.
pub struct Stage {
    name: String,
    factor: i64,
}

impl Drop for Stage {
    fn drop(&mut self) {
        LIVE_STAGES.fetch_sub(1, Ordering::SeqCst);
    }
}

fn stage(name: &str, factor: i64) -> Stage {
    LIVE_STAGES.fetch_add(1, Ordering::SeqCst);
    Stage {
        name: name.to_owned(),
        factor,
    }
}

/// One step of a pipeline: multiplies its input.
#[export]
impl Stage {
    /// A stage multiplying by `factor`.
    pub fn new(name: &str, factor: i64) -> Stage {
        stage(name, factor)
    }

    /// Its name.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// How many stages are alive, in Python or in Rust.
    pub fn live() -> usize {
        LIVE_STAGES.load(Ordering::SeqCst)
    }
}

/// A stage shared with Rust code (`Arc<Stage>`): it cannot be moved.
#[export]
pub fn shared_stage(name: &str, factor: i64) -> Arc<Stage> {
    Arc::new(stage(name, factor))
}

/// A pipeline owning its stages.
#[derive(Default)]
pub struct Pipeline {
    stages: Vec<Stage>,
}

/// A pipeline owning its stages.
#[export]
impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Pipeline {
        Pipeline::default()
    }

    /// Appends `stage` (moved in); the number of stages.
    pub fn then(&mut self, stage: Stage) -> usize {
        self.stages.push(stage);
        self.stages.len()
    }

    /// Appends every stage of `stages` (all moved in, or none).
    pub fn then_all(&mut self, stages: Vec<Stage>) -> usize {
        self.stages.extend(stages);
        self.stages.len()
    }

    /// `input` through every stage.
    pub fn run(&self, input: i64) -> i64 {
        self.stages
            .iter()
            .fold(input, |value, stage| value * stage.factor)
    }

    /// The stages' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.stages.iter().map(|stage| stage.name.clone()).collect()
    }

    /// Gives the stages back (new Python objects), leaving it empty.
    pub fn take_stages(&mut self) -> Vec<Stage> {
        std::mem::take(&mut self.stages)
    }
}

/// A plan: a record holding stages.
#[export]
pub struct Plan {
    /// What it is for.
    pub label: String,
    /// Its first stage, if any.
    pub first: Option<Stage>,
    /// The stages after it.
    pub rest: Vec<Stage>,
}

/// Runs `input` through a plan's stages (the plan is moved in).
#[export]
pub fn run_plan(plan: Plan, input: i64) -> i64 {
    let mut pipeline = Pipeline::new();
    pipeline.stages.extend(plan.first);
    pipeline.then_all(plan.rest);
    pipeline.run(input)
}
