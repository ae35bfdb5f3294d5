"""Qt app of fer-studio, on top of fer_engine."""
import sys as _sys

if _sys.implementation.name == "cpython" and _sys.version_info < (3, 12):
    # PySide6 6.12 drops a reference it does not own: to True on every `Signal.emit()`
    # (and every bool a slot or virtual returns) and to None each time a Python
    # `QAbstractItemModel.data()` returns None. Once a count reaches zero the interpreter
    # aborts ("bool_dealloc" / "none_dealloc"), in long sessions and at exit. Python >= 3.12
    # makes these singletons immortal; before that, give them a count that cannot run out.
    import ctypes as _ctypes

    for _singleton in (True, False, None):
        _ctypes.c_ssize_t.from_address(id(_singleton)).value += 1 << 40
