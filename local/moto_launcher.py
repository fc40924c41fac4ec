"""Run moto's server for the nhi-governor local stack.

Usage: python3 moto_launcher.py PORT   (MOTO_PORT must name the gateway port in front of it,
so that moto's own Lambda calls from Step Functions reach the gateway.)

The only patch: moto < 5.2.3 deep-copies a state machine, executions included, on every
StartExecution, and the copy fails from the second execution on with
"cannot pickle '_thread.RLock' object" (getmoto/moto#10077, fixed by #10093 in 5.2.3).
We backport that fix: the copy leaves `executions` out and shares `backend`.
"""
import copy
import sys

try:
    import moto
    from moto.server import main as moto_main
    from moto.stepfunctions.models import StateMachineInstance
except ImportError as missing:  # pragma: no cover - reported to the user by the CLI
    sys.stderr.write(
        f"nhigov: moto is not importable ({missing}); install it with: pip install 'moto[server]'\n"
    )
    sys.exit(3)


def _version_tuple(text):
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def _deepcopy_without_executions(self, memo):
    cls = self.__class__
    clone = cls.__new__(cls)
    memo[id(self)] = clone
    for key, value in self.__dict__.items():
        if key == "executions":
            setattr(clone, key, [])
        elif key == "backend":
            setattr(clone, key, value)
        else:
            setattr(clone, key, copy.deepcopy(value, memo))
    return clone


if _version_tuple(moto.__version__) < (5, 2, 3):
    StateMachineInstance.__deepcopy__ = _deepcopy_without_executions

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.stderr.write("usage: moto_launcher.py PORT\n")
        sys.exit(2)
    moto_main(["-p", sys.argv[1]])
