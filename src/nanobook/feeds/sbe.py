"""Simple Binary Encoding (SBE) schemas: read the XML, lay blocks out as numpy dtypes.

Only the parts of SBE 1.0 that CME MDP 3.0 uses: little-endian primitive
types, fixed-length char arrays, composites, enums, sets (bit choices),
constants, optional fields with null values, ``sinceVersion`` on fields and
groups, repeating groups with any dimension composite (``groupSize``,
``groupSize8Byte``, ``groupSizeEncoding``), nested groups.  Variable-length
``data`` fields are not used by MDP 3.0 market data and are rejected.
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._errors import FeedError

__all__ = ["SbeSchema", "SbeField", "SbeBlock", "snake"]

_PRIM = {
    "char": ("S1", 1), "int8": ("i1", 1), "uint8": ("u1", 1), "int16": ("<i2", 2),
    "uint16": ("<u2", 2), "int32": ("<i4", 4), "uint32": ("<u4", 4), "int64": ("<i8", 8),
    "uint64": ("<u8", 8), "float": ("<f4", 4), "double": ("<f8", 8),
}

_STRUCT = {"uint8": "<B", "uint16": "<H", "uint32": "<I", "int8": "<b", "int16": "<h",
           "int32": "<i"}


def snake(name: str) -> str:
    """``MDEntryPx`` -> ``md_entry_px``, ``NoOrderIDEntries`` -> ``no_order_id_entries``."""
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


@dataclass
class SbeField:
    """One column of a block: a primitive slot on the wire, or a constant."""

    name: str            # snake case column name
    xml_name: str
    fmt: str             # numpy format ('' for constants)
    offset: int          # within the block
    size: int
    since: int
    null: Any = None     # raw null value for optional fields
    constant: Any = None
    enum: dict | None = None      # raw -> description
    choices: dict | None = None   # bit -> choice name (sets)
    exponent: int | None = None   # decimal composites (mantissa * 10**exponent)
    is_char: bool = False


@dataclass
class SbeBlock:
    """A message root block or a repeating group entry block."""

    name: str
    block_length: int
    since: int
    fields: list[SbeField]
    groups: list["SbeGroup"] = field(default_factory=list)
    dtype: np.dtype | None = None   # 8 bytes of (msg u4, entry u4) + the block


@dataclass
class SbeGroup(SbeBlock):
    dim_size: int = 3
    dim_block_off: int = 0
    dim_block_fmt: str = "<H"      # struct formats of the dimension fields
    dim_num_off: int = 2
    dim_num_fmt: str = "<B"


@dataclass
class SbeMessage(SbeBlock):
    template_id: int = 0
    semantic_type: str = ""


class SbeSchema:
    """An SBE message schema read from its XML.

    Attributes
    ----------
    schema_id, version : int
    messages : dict[int, SbeMessage]
        Template id -> message layout.
    header_size : int
        Size of the message header composite (8 for CME).
    """

    def __init__(self, path_or_xml: str | os.PathLike | bytes) -> None:
        if isinstance(path_or_xml, bytes):
            root = ET.fromstring(path_or_xml)
        elif isinstance(path_or_xml, (str, os.PathLike)):
            try:
                if str(path_or_xml).endswith(".gz"):
                    import gzip

                    with gzip.open(path_or_xml, "rb") as fh:
                        root = ET.fromstring(fh.read())
                else:
                    root = ET.parse(path_or_xml).getroot()
            except ET.ParseError as exc:
                raise FeedError(f"schema XML {path_or_xml!s} cannot be parsed: {exc}") from exc
        else:
            raise TypeError(f"path_or_xml must be a path or XML bytes, got {type(path_or_xml).__name__}")
        if not root.tag.endswith("messageSchema"):
            raise FeedError(f"not an SBE messageSchema: root element {root.tag!r}")
        if root.get("byteOrder", "littleEndian") != "littleEndian":
            raise FeedError("only littleEndian SBE schemas are supported")
        self.schema_id = int(root.get("id", "0"))
        self.version = int(root.get("version", "0"))
        self.description = root.get("description", "")
        self._types: dict[str, ET.Element] = {}
        for types in root.iter():
            if types.tag.endswith("types"):
                for t in types:
                    self._types[t.get("name")] = t
        hdr = self._types.get("messageHeader")
        self.header_size = self._composite_size(hdr) if hdr is not None else 8
        self.messages: dict[int, SbeMessage] = {}
        for m in root:
            if m.tag.endswith("message"):
                msg = SbeMessage(
                    name=re.sub(r"\d+$", "", m.get("name")) if m.get("description") is None
                    else m.get("description"),
                    block_length=int(m.get("blockLength")),
                    since=int(m.get("sinceVersion", "0")),
                    fields=[],
                    template_id=int(m.get("id")),
                    semantic_type=m.get("semanticType", ""),
                )
                self._fill_block(msg, m)
                self.messages[msg.template_id] = msg

    # ---------------------------------------------------------------- layout

    def _composite_size(self, comp: ET.Element) -> int:
        off = 0
        end = 0
        for t in comp:
            if t.get("presence") == "constant":
                continue
            off = int(t.get("offset", off))
            n = self._type_size(t)
            off += n
            end = max(end, off)
        return end

    def _type_size(self, t: ET.Element) -> int:
        if t.tag.endswith("composite"):
            return self._composite_size(t)
        if t.tag.endswith("type"):
            if t.get("presence") == "constant":
                return 0
            return _PRIM[t.get("primitiveType")][1] * int(t.get("length", "1"))
        if t.tag.endswith("enum") or t.tag.endswith("set"):
            enc = t.get("encodingType")
            return self._type_size(self._types[enc]) if enc in self._types else _PRIM[enc][1]
        if t.tag.endswith("ref"):
            return self._type_size(self._types[t.get("type")])
        raise FeedError(f"unsupported SBE type element {t.tag}")

    def _prim_of(self, t: ET.Element) -> tuple[str, ET.Element]:
        """(primitive type, the <type> element) behind an enum/set encoding."""
        enc = t.get("encodingType")
        if enc in self._types:
            e = self._types[enc]
            return e.get("primitiveType"), e
        return enc, t

    def _columns(self, name: str, typ: ET.Element, off: int, since: int, presence: str | None):
        cols: list[SbeField] = []
        tag = typ.tag
        if tag.endswith("type"):
            prim = typ.get("primitiveType")
            length = int(typ.get("length", "1"))
            if typ.get("presence") == "constant" or presence == "constant":
                text = (typ.text or "").strip()
                cols.append(SbeField(name, name, "", off, 0, since,
                                     constant=text if prim == "char" else int(text),
                                     is_char=prim == "char"))
                return cols
            fmt, size = _PRIM[prim]
            if prim == "char":
                fmt, size = f"S{length}", length
            elif length > 1:
                raise FeedError(f"array of {prim} in field {name} is not supported")
            null = None
            if typ.get("presence") == "optional" or presence == "optional":
                nv = typ.get("nullValue")
                if nv is not None:
                    null = int(nv) if prim != "char" else nv
                else:
                    null = _default_null(prim)
            cols.append(SbeField(name, name, fmt, off, size, since, null=null, is_char=prim == "char"))
        elif tag.endswith("enum"):
            prim, enc = self._prim_of(typ)
            fmt, size = _PRIM[prim]
            values = {}
            for v in typ:
                raw = (v.text or "").strip()
                key = raw.encode() if prim == "char" else int(raw)
                values[key] = (v.get("description") or v.get("name")).strip()
            null = int(enc.get("nullValue")) if enc.get("presence") == "optional" and enc.get("nullValue") else None
            cols.append(SbeField(name, name, fmt, off, size, since, null=null, enum=values,
                                 is_char=prim == "char"))
        elif tag.endswith("set"):
            prim, _ = self._prim_of(typ)
            fmt, size = _PRIM[prim]
            choices = {int((c.text or "0").strip()): c.get("name") for c in typ}
            cols.append(SbeField(name, name, fmt, off, size, since, choices=choices))
        elif tag.endswith("composite"):
            parts = [t for t in typ]
            pnames = [p.get("name") for p in parts]
            if pnames[:2] == ["mantissa", "exponent"] and parts[1].get("presence") == "constant":
                c = self._columns(name, parts[0], off, since, None)
                c[0].exponent = int((parts[1].text or "0").strip())
                cols.extend(c)
            else:
                sub = off
                for p in parts:
                    if p.get("presence") == "constant":
                        continue
                    sub = off + int(p.get("offset", sub - off))
                    cols.extend(self._columns(f"{name}_{snake(p.get('name'))}", p, sub, since, None))
                    sub += self._type_size(p)
        else:
            raise FeedError(f"unsupported SBE type element {tag} for field {name}")
        return cols

    def _fill_block(self, block: SbeBlock, el: ET.Element) -> None:
        off = 0
        for f in el:
            tag = f.tag.split("}")[-1]
            if tag == "field":
                tname = f.get("type")
                typ = self._types.get(tname)
                if typ is None:
                    prim = tname
                    typ = ET.Element("type", {"primitiveType": prim})
                    if prim not in _PRIM:
                        raise FeedError(f"field {f.get('name')} has unknown type {tname!r}")
                since = int(f.get("sinceVersion", "0"))
                presence = f.get("presence")
                is_const = presence == "constant" or typ.get("presence") == "constant"
                if not is_const:
                    off = int(f.get("offset", off))
                cols = self._columns(snake(f.get("name")), typ, off, since, presence)
                for c in cols:
                    c.xml_name = f.get("name") if len(cols) == 1 else c.name
                block.fields.extend(cols)
                if not is_const:
                    off += self._type_size(typ)
            elif tag == "group":
                dim = self._types[f.get("dimensionType", "groupSize")]
                g = SbeGroup(name=snake(f.get("name")), block_length=int(f.get("blockLength")),
                             since=int(f.get("sinceVersion", "0")), fields=[])
                g.dim_size = self._composite_size(dim)
                p = 0
                for t in dim:
                    p = int(t.get("offset", p))
                    fmt = _STRUCT[t.get("primitiveType")]
                    if t.get("name") == "blockLength":
                        g.dim_block_off, g.dim_block_fmt = p, fmt
                    elif t.get("name") == "numInGroup":
                        g.dim_num_off, g.dim_num_fmt = p, fmt
                    p += _PRIM[t.get("primitiveType")][1]
                self._fill_block(g, f)
                block.groups.append(g)
            elif tag == "data":
                raise FeedError(f"variable-length data field {f.get('name')} is not supported")
        names = ["msg", "entry"] + [c.name for c in block.fields if c.fmt]
        formats = ["<u4", "<u4"] + [c.fmt for c in block.fields if c.fmt]
        offsets = [0, 4] + [8 + c.offset for c in block.fields if c.fmt]
        size = 8 + max([block.block_length] + [c.offset + c.size for c in block.fields if c.fmt])
        block.dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                                "itemsize": size})

    def _walk_tables(self):
        """The layouts compiled for the C packet walk (built once, cached)."""
        t = self.__dict__.get("_tables")
        if t is None:
            from ._mdp3 import Tables

            t = self.__dict__["_tables"] = Tables(self)
        return t

    def message(self, template_id: int) -> SbeMessage:
        """Layout of ``template_id``; raises FeedError if the schema lacks it."""
        try:
            return self.messages[template_id]
        except KeyError:
            raise FeedError(f"template_id {template_id} is not in schema id {self.schema_id} "
                            f"version {self.version}") from None


def _default_null(prim: str) -> int | None:
    return {"int8": -128, "uint8": 255, "int16": -(1 << 15), "uint16": 65535,
            "int32": -(1 << 31), "uint32": (1 << 32) - 1, "int64": -(1 << 63),
            "uint64": (1 << 64) - 1}.get(prim)
