"""Refusals only a full build reports: the runtime's assertions evaluated
when generic code is instantiated (trybuild's cases are `cargo check`ed,
which never gets there). Each case is built as a crate of its own with the
workspace's target directory (the dependency builds are reused)."""

from __future__ import annotations

import os
import subprocess

import pytest

from conftest import TARGET
from test_packaging import copy_project

ALIASED_CLOSURE = '''
use ffi_export::export;

pub struct Sprite(u32);

#[export]
impl Sprite {
    pub fn new() -> Sprite {
        Sprite(0)
    }
}

// A closure type behind an alias the macro cannot see through.
pub type Factory = Box<dyn Fn(u32) -> Sprite + Send + Sync>;

#[export]
pub fn keep(factory: Factory) -> u32 {
    factory(1).0
}
'''


def build(tmp_path_factory: pytest.TempPathFactory, source: str) -> subprocess.CompletedProcess[str]:
    project = copy_project(tmp_path_factory)
    with open(os.path.join(project, "src", "lib.rs"), "w") as f:
        f.write(source)
    env = dict(os.environ, CARGO_TARGET_DIR=TARGET, CARGO_NET_OFFLINE="true", NO_COLOR="1",
               CARGO_TERM_COLOR="never")
    return subprocess.run(["cargo", "build", "--quiet", "--manifest-path", os.path.join(project, "Cargo.toml")],
                          capture_output=True, text=True, env=env, timeout=600, check=False)


def test_a_closure_returning_an_object_behind_an_alias_is_refused(tmp_path_factory: pytest.TempPathFactory) -> None:
    result = build(tmp_path_factory, ALIASED_CLOSURE)
    assert result.returncode != 0
    assert ("a closure the caller implements cannot return an object of an #[export] impl by value: "
            "return `Arc<Object>` instead") in result.stderr
    # One error for the one mistake.
    assert result.stderr.count("error[E0080]") == 1, result.stderr
