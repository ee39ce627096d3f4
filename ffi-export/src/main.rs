//! `ffi-export`: the companion command of ffi-export (`ffi-export --help`).
//!
//! It writes the Python helper, and runs the helper's tools (`describe`,
//! `stubs`, `header`, `wheel`) with a Python interpreter: the tools are
//! Python (they load the built library to read its self-description), and
//! the copy they run is the one embedded in this binary, so it speaks this
//! version's ABI.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

const HELP: &str = "\
ffi-export: the companion command of ffi-export, which exports Rust functions,
records, enums and objects through a plain C ABI and binds them from Python.

Usage: ffi-export <COMMAND> [ARGS...]

Commands:
  wheel [CRATE] [--name NAME] [-o DIR] [--profile PROFILE]
        Build the crate's cdylib (default profile: release; CARGO_TARGET_DIR
        is honoured) and pack one installable py3-none-<platform> wheel into
        DIR (default: dist): the library, a typed __init__.py + __init__.pyi,
        py.typed and a private copy of the helper. CRATE is the crate's
        directory or Cargo.toml (default: .); NAME the Python package
        (default: the crate's name). Prints the wheel's path.
  describe LIBRARY [--json]
        Print every export of a built library with its Rust signature.
  stubs LIBRARY [-o FILE.pyi] [--module FILE.py] [--helper-stub DIR] [--vendored]
        Write typed stubs (and a thin typed module loading the library).
  header LIBRARY [-o FILE.h] [--cdef]
        Write a C header for the library (--cdef: for cffi's FFI().cdef).
  python-helper [DIR]
        Write the Python helper DIR/ffi_export.py and its tools
        DIR/ffi_export_tools.py (default: .), to import or vendor.
  help  Print this help (also -h, --help).

Options:
  --python PYTHON   The interpreter that runs describe, stubs, header and
                    wheel (default: $FFI_EXPORT_PYTHON, else python3).
  --version         Print the version and the C ABI version.

`COMMAND --help` prints a command's own options.";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let python = match take_option(&mut args, "--python") {
        Ok(python) => python,
        Err(message) => return usage_error(&message),
    };
    let Some(command) = args.first().map(String::as_str) else {
        return usage_error("no command given");
    };
    match command {
        "-h" | "--help" | "help" => print_stdout(HELP),
        "--version" | "-V" => print_stdout(&format!(
            "ffi-export {} (C ABI version {})",
            env!("CARGO_PKG_VERSION"),
            ffi_export::ABI_VERSION
        )),
        "python-helper" => match &args[1..] {
            [] => write_helper(Path::new(".")),
            [dir] if !dir.starts_with('-') => write_helper(Path::new(dir)),
            _ => usage_error("python-helper takes one optional DIR"),
        },
        "wheel" | "describe" | "stubs" | "header" => run_tools(python, &args),
        other => usage_error(&format!("unknown command `{other}`")),
    }
}

/// Prints `text` and a newline on stdout; a closed pipe (`| head`) is a
/// quiet success.
fn print_stdout(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("ffi-export: {message}\nRun `ffi-export --help` for the commands.");
    ExitCode::from(2)
}

/// Removes `--name VALUE` / `--name=VALUE` from `args`; its value.
fn take_option(args: &mut Vec<String>, name: &str) -> Result<Option<String>, String> {
    let prefix = format!("{name}=");
    let Some(index) = args
        .iter()
        .position(|a| a == name || a.starts_with(&prefix))
    else {
        return Ok(None);
    };
    let arg = args.remove(index);
    if let Some(value) = arg.strip_prefix(&prefix) {
        return Ok(Some(value.to_owned()));
    }
    if index < args.len() {
        return Ok(Some(args.remove(index)));
    }
    Err(format!("{name} needs a value"))
}

/// Writes the helper and its tools (which import it) side by side.
fn write_helper(dir: &Path) -> ExitCode {
    match write_helper_files(dir) {
        Ok(paths) => {
            let listing: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            print_stdout(&listing.join("\n"))
        }
        Err(message) => {
            eprintln!("ffi-export: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write_helper_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let files = [
        ("ffi_export.py", ffi_export::PYTHON_HELPER),
        ("ffi_export_tools.py", ffi_export::PYTHON_TOOLS),
    ];
    let mut written = Vec::new();
    for (name, source) in files {
        let path = dir.join(name);
        std::fs::write(&path, source)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs `python ffi_export_tools.py ARGS` with the embedded helper, written
/// to a private temporary directory removed afterwards.
fn run_tools(python: Option<String>, args: &[String]) -> ExitCode {
    let python = python
        .or_else(|| std::env::var("FFI_EXPORT_PYTHON").ok())
        .unwrap_or_else(|| "python3".to_owned());
    let dir = std::env::temp_dir().join(format!(
        "ffi-export-tools-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    let status = write_helper_files(&dir).and_then(|_| {
        Command::new(&python)
            .arg(dir.join("ffi_export_tools.py"))
            .args(args)
            // The tools' own messages name this command.
            .env("FFI_EXPORT_PROG", "ffi-export")
            .status()
            .map_err(|e| format!("cannot run {python} (give an interpreter with --python): {e}"))
    });
    // Best effort: a leftover directory in the temp folder harms nothing.
    let _ = std::fs::remove_dir_all(&dir);
    match status {
        Ok(status) => match status.code() {
            Some(0) => ExitCode::SUCCESS,
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::FAILURE,
        },
        Err(message) => {
            eprintln!("ffi-export: {message}");
            ExitCode::FAILURE
        }
    }
}
