//! `ffi-export`: small companion commands for projects using ffi-export.
//!
//! ```text
//! ffi-export python-helper [DIR]   write DIR/ffi_export.py and DIR/ffi_export_tools.py (default: .)
//! ffi-export --version
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: ffi-export python-helper [DIR]   write the Python helper DIR/ffi_export.py\n                                    and its tools DIR/ffi_export_tools.py\n       ffi-export --version";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["python-helper"] => write_helper(PathBuf::from(".")),
        ["python-helper", dir] => write_helper(PathBuf::from(dir)),
        ["--version"] => {
            println!(
                "ffi-export {} (C ABI version {})",
                env!("CARGO_PKG_VERSION"),
                ffi_export::ABI_VERSION
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Writes the helper and its tools (which import it) side by side.
fn write_helper(dir: PathBuf) -> ExitCode {
    if let Err(error) = std::fs::create_dir_all(&dir) {
        eprintln!("ffi-export: cannot create {}: {error}", dir.display());
        return ExitCode::FAILURE;
    }
    let files = [
        ("ffi_export.py", ffi_export::PYTHON_HELPER),
        ("ffi_export_tools.py", ffi_export::PYTHON_TOOLS),
    ];
    for (name, source) in files {
        let path = dir.join(name);
        if let Err(error) = std::fs::write(&path, source) {
            eprintln!("ffi-export: cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
