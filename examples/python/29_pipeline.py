"""Pipeline: objects moved into Rust by value, a builder owning its stages.

A builder taking ownership of its stages (`Stage`, `Vec<Stage>`, a record holding stages). The Python
object closes once Rust owns the value; a call that refuses any argument
moves nothing. (No seed program: the ownership shape of a Rust builder.)
"""
import gc

from _common import expected, ffi_export, library

lib = library()

pipeline = lib.Pipeline()
double = lib.Stage("double", 2)
print("stages:", pipeline.then(double), "closed:", double.closed)
with expected(ValueError):
    double.name()
print("stages:", pipeline.then_all([lib.Stage("triple", 3), lib.Stage("negate", -1)]))
print("run:", pipeline.run(5), pipeline.names())

# One refused element: nothing moves, every stage stays usable.
keep, shared = lib.Stage("keep", 1), lib.shared_stage("shared", 10)
with expected(ffi_export.InvalidArgument):
    pipeline.then_all([keep, shared])
print("still usable:", keep.name(), keep.closed)

# A record holding stages moves them all.
plan = lib.Plan(label="tenfold", first=lib.Stage("ten", 10), rest=[keep])
print("plan:", lib.run_plan(plan, 7), "closed:", keep.closed, plan.first.closed)

# Given back: new Python objects of the same values.
back = pipeline.take_stages()
print("back:", [stage.name() for stage in back], pipeline.run(5))
del back, shared, plan
gc.collect()
print("stages alive:", lib.Stage.live())
