"""Qt app of fer-studio, on top of fer_engine."""
import sys as _sys

if _sys.implementation.name == "cpython" and _sys.version_info < (3, 12):
    # PySide6 6.12 drops a reference to True/False each time a Python slot or a virtual
    # override returns a bool into a QVariant (pyqtgraph's itemChange does, on every plot
    # show/resize); once the count reaches zero the interpreter aborts ("bool_dealloc").
    # Python >= 3.12 makes the bools immortal; before that, give them a huge count.
    import ctypes as _ctypes

    for _b in (True, False):
        _ctypes.c_ssize_t.from_address(id(_b)).value += 1 << 40
