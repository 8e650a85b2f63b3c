"""What one worker subprocess is asked to do, as plain data that travels as JSON."""
from __future__ import annotations

import dataclasses
from typing import Any

from core.artifacts import ModelInfo
from .records import Record
from .timing import RunSettings


def is_keras(backend_name: str) -> bool:
    """TensorFlow backends run the Keras model a file was converted from, not the file."""
    return backend_name in ("tf", "tf-gpu")


@dataclasses.dataclass(frozen=True)
class BackendSpec:
    """`name[:arg][;key=value...]`, e.g. `cpu`, `android:gpu`, `delegate:/x/libedgetpu.so.1;device=usb`."""
    name: str
    arg: str = ""
    options: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "BackendSpec":
        head, *pairs = text.strip().split(";")
        name, _, arg = head.partition(":")
        options = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise ValueError(f"backend option {pair!r} in {text!r} is not key=value")
            options[key.strip()] = value.strip()
        return cls(name.strip(), arg.strip(), options)

    @property
    def label(self) -> str:
        """The backend column: the library's file name stands for a delegate's path."""
        arg = self.arg.rsplit("/", 1)[-1]
        return f"{self.name}:{arg}" if arg else self.name


@dataclasses.dataclass(frozen=True)
class Job:
    model: ModelInfo
    backend: BackendSpec
    threads: int | None
    settings: RunSettings
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # backend-specific context

    def record(self, **fields: Any) -> Record:
        """A row for this job; `fields` adds what the run found out."""
        m, keras = self.model, is_keras(self.backend.name)
        base = dict(model=f"{m.variant} (Keras)" if keras else m.name, path=m.path,
                    variant=m.variant, precision="keras-fp32" if keras else m.precision,
                    backend=self.backend.label, threads=self.threads,
                    machine=self.options.get("machine", ""),
                    file_size_bytes=None if keras else m.size_bytes, file_sha256="" if keras else m.sha256)
        return Record(**{**base, **fields})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Job":
        return cls(model=ModelInfo(**data["model"]), backend=BackendSpec(**data["backend"]),
                   threads=data["threads"], settings=RunSettings(**data["settings"]),
                   options=data["options"])
