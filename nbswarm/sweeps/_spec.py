"""What a sweep runs: variants (the product of axes), one item per variant and task, attempts of items.

An *item* is one variant on one task; an *attempt* is one run of an item, with its own run id
(``<sweep>-<item>-a<attempt>``). A retry after a worker died is a new attempt, never a resumed one:
LLM output is not deterministic, so a stream cannot be spliced (see SCALE-OUT.md).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InvalidArgument

__all__ = ["RunSpec", "grid", "items_of"]

ENV_PREFIXES = ("NBSWARM_", "LITELLM_")
"""Environment variables a worker takes from the driver (sim speed, simulate, litellm's price map)..."""
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD")
"""...except anything that looks like a credential: workers have their own (and Ray ships specs
through its object store)."""


def grid(**axes: Any) -> list[dict[str, Any]]:
    """Variants: every combination of the axes' values, in axis order.

    ``grid(model_name=["sim/gpt-4o-mini", "sim/gpt-4o"], temperature=[0.2, 1.0])`` gives four
    dicts. A value that is not a list or tuple (a string, a number) is an axis of one value.
    """
    if not axes:
        raise InvalidArgument("grid() needs at least one axis, e.g. grid(temperature=[0.2, 1.0])")
    names, values = [], []
    for name, axis in axes.items():
        options = list(axis) if isinstance(axis, (list, tuple, range)) else [axis]
        if not options:
            raise InvalidArgument(f"grid(): axis {name!r} has no values")
        names.append(name)
        values.append(options)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


@dataclass(frozen=True)
class RunSpec:
    """One attempt of one item: everything a worker needs to run it (picklable)."""

    item: int
    variant: dict[str, Any]
    task: str
    attempt: int
    run_id: str
    env: dict[str, str] = field(default_factory=dict)

    def retry(self) -> RunSpec:
        """The next attempt of the same item, under a new run id."""
        base = self.run_id.rsplit("-a", 1)[0]
        return replace(self, attempt=self.attempt + 1, run_id=f"{base}-a{self.attempt + 1}")


def variants_of(variants: Any) -> list[dict[str, Any]]:
    """Variants as a list of dicts (a DataFrame gives its records); validated."""
    if hasattr(variants, "to_dict") and hasattr(variants, "columns"):
        variants = variants.to_dict("records")
    if isinstance(variants, Mapping) or not isinstance(variants, Iterable) or isinstance(variants, str):
        raise InvalidArgument(
            "sweep(): variants must be a list of dicts (e.g. nbswarm.grid(...)) or a DataFrame, "
            f"got {type(variants).__name__}"
        )
    out = list(variants)
    if not out:
        raise InvalidArgument("sweep(): variants is empty: nothing to run")
    for i, variant in enumerate(out):
        if not isinstance(variant, Mapping) or not all(isinstance(k, str) for k in variant):
            raise InvalidArgument(f"sweep(): variant {i} must be a dict with str keys, got {variant!r}")
    return [dict(v) for v in out]


def tasks_of(task_or_tasks: Any) -> list[str]:
    tasks = [task_or_tasks] if isinstance(task_or_tasks, str) else task_or_tasks
    if not isinstance(tasks, Sequence) or not tasks:
        raise InvalidArgument("sweep(): give a task (a str) or a non-empty list of tasks")
    for task in tasks:
        if not isinstance(task, str) or not task.strip():
            raise InvalidArgument(f"sweep(): every task must be a non-empty str, got {task!r}")
    return list(tasks)


def items_of(sweep_id: str, variants: list[dict[str, Any]], tasks: list[str]) -> list[RunSpec]:
    """The first attempt of every (variant, task) item, variant-major."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k.startswith(ENV_PREFIXES) and not any(word in k.upper() for word in _SECRET_WORDS)
    }
    return [
        RunSpec(item=i, variant=variant, task=task, attempt=1, run_id=f"{sweep_id}-{i:05d}-a1", env=env)
        for i, (variant, task) in enumerate(itertools.product(variants, tasks))
    ]


def check_make(make: Any) -> Callable[[dict[str, Any]], Any]:
    if not callable(make):
        raise InvalidArgument(
            f"sweep(): make must be a function make(variant) -> Agent or workflow, got {type(make).__name__}"
        )
    return make
