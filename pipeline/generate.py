"""Synthetic register extracts in the layout of spec/DATA_CONTRACT.md (`boliglister generate`).

The data are invented. They form a consistent yearly panel of persons (same `pnr` across years,
ageing, moving, dying, being born, immigrating) living at addresses on cadastral parcels, some of
which make up social-housing areas. Every person carries a persistent latent disadvantage `u`;
each area carries a deprivation level `D` that drifts slowly over the years. Labour-market status,
education, income and convictions are drawn from `u + AREA_EFFECT * D(t)`, and movers swap
addresses only with movers of the same stratum (origin group, `u` band, age band), so an area's
composition persists from year to year. That makes the lists of spec/METHOD.md (vulnerable,
parallel, transformation, prevention, combined letting) appear and persist, with areas drifting
on and off them.

Everything is vectorised with numpy (no per-person Python loop; loops run over municipalities,
areas and years only) and deterministic: one `numpy.random.Generator(PCG64(seed))` consumed in a
fixed order, rows sorted by `pnr`, fixed Parquet writer settings. The same arguments give
byte-identical files.
"""

from __future__ import annotations

import datetime as _dt
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.reference import PACKAGE_DIR

# ---------------------------------------------------------------------------------------------
# Fixed parameters of the synthetic world
# ---------------------------------------------------------------------------------------------

# Approximate population of each municipality (Denmark, early 2020s); only the proportions matter.
MUNICIPALITY_POPULATION: dict[int, int] = {
    101: 660_000, 147: 105_000, 151: 49_000, 153: 39_000, 155: 14_000, 157: 75_000, 159: 70_000,
    161: 24_000, 163: 30_000, 165: 28_000, 167: 54_000, 169: 58_000, 173: 57_000, 175: 41_000,
    183: 24_000, 185: 44_000, 187: 17_000, 190: 41_000, 201: 26_000, 210: 41_000, 217: 64_000,
    219: 52_000, 223: 25_000, 230: 57_000, 240: 44_000, 250: 46_000, 260: 32_000, 270: 42_000,
    400: 39_000, 253: 51_000, 259: 62_000, 265: 90_000, 269: 24_000, 306: 33_000, 316: 73_000,
    320: 37_000, 326: 49_000, 329: 36_000, 330: 80_000, 336: 23_000, 340: 30_000, 350: 29_000,
    360: 40_000, 370: 84_000, 376: 60_000, 390: 46_000, 410: 39_000, 420: 41_000, 430: 52_000,
    440: 24_000, 450: 32_000, 461: 207_000, 479: 59_000, 480: 30_000, 482: 12_000, 492: 6_000,
    510: 55_000, 530: 27_000, 540: 74_000, 550: 37_000, 561: 116_000, 563: 3_500, 573: 50_000,
    575: 43_000, 580: 59_000, 607: 52_000, 621: 95_000, 630: 121_000, 615: 98_000, 657: 90_000,
    661: 59_000, 665: 19_000, 671: 21_000, 706: 43_000, 707: 37_000, 710: 49_000, 727: 23_000,
    730: 99_000, 740: 99_000, 741: 3_700, 746: 64_000, 751: 367_000, 756: 42_000, 760: 56_000,
    766: 47_000, 779: 46_000, 791: 98_000, 773: 20_000, 787: 43_000, 810: 36_000, 813: 58_000,
    820: 36_000, 825: 1_800, 840: 30_000, 846: 42_000, 849: 38_000, 851: 222_000, 860: 64_000,
}

# Origins (ISO alpha-3) with relative weights; checked against countries.csv at run time.
NONWESTERN_ORIGINS = {
    "TUR": 12, "SYR": 10, "IRQ": 8, "LBN": 6, "PAK": 6, "SOM": 5, "AFG": 5, "IRN": 5, "BIH": 5,
    "UKR": 8, "IND": 4, "CHN": 3, "PHL": 3, "THA": 3, "VNM": 3, "ERI": 3, "MAR": 3, "RUS": 2,
    "LKA": 2, "PSE": 2, "SRB": 1, "MKD": 1,
}
WESTERN_ORIGINS = {
    "POL": 20, "ROU": 10, "DEU": 12, "LTU": 6, "SWE": 7, "NOR": 7, "GBR": 7, "USA": 4, "ITA": 5,
    "ESP": 4, "FRA": 4, "BGR": 4, "NLD": 3, "ISL": 2, "FRO": 2, "GRL": 3,
}

AREA_EFFECT = 1.9           # weight of the area's current deprivation in the outcome index
AREA_U_SHIFT = 0.6          # mean latent disadvantage of an area's residents per unit of D
MOVE_RATE = 0.08            # share of persons who move in a year
NO_ADDRESS_RATE = 0.0015    # persons without a fixed address in bef
NO_AKM_RATE = 0.004         # persons without an akm record
CONVICTION_RATE = 0.008     # national share of adults convicted under a relevant law per year
MIN_AREA = 200              # smallest area (residents at creation)
MAX_AREA = 8_000
U_EDGES = np.linspace(-2.4, 3.3, 19)        # 20 bands of the latent disadvantage
AGE_EDGES = np.array([18, 30, 60])          # 4 age bands for the moving strata

AREA_NAME_PREFIX = [
    "Sol", "Birke", "Egelund", "Hede", "Skov", "Strand", "Bøge", "Lunde", "Rose", "Kilde", "Mølle",
    "Enghave", "Ahorn", "Kastanie", "Lærke", "Vibe", "Stær", "Fasan", "Hvede", "Rug", "Kløver",
    "Fyrre", "Poppel", "Hyld", "Hassel", "Æble", "Pile", "Tjørne", "Lyng", "Ege", "Ørne", "Valmue",
    "Gran", "Nælde", "Bjerg", "Dal", "Sø", "Å", "Mose", "Kær",
]
AREA_NAME_SUFFIX = [
    "parken", "gården", "høj", "vang", "lund", "bakken", "haven", "toften", "engen", "vænget",
    "hegnet", "marken", "kvarteret", "byen", "stien",
]
AREA_NAME_QUALIFIER = ["", " Nord", " Syd", " Øst", " Vest", " I", " II", " III"]

PARQUET_OPTIONS = dict(
    compression="zstd",
    compression_level=9,
    write_statistics=True,
    version="2.6",
    data_page_version="1.0",
    row_group_size=1_048_576,
    store_schema=True,
)


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of `total` over `weights` (deterministic)."""
    w = np.asarray(weights, dtype=np.float64)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        order = np.argsort(-(exact - base), kind="stable")
        base[order[:rest]] += 1
    return base


def _pad(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string()), width, "0")


def _write_parquet(table: pa.Table, path: Path) -> int:
    """Fixed writer settings: dictionary encoding for codes, delta encoding for the (sorted,
    unique) identifiers, byte-stream-split for floats; zstd."""
    plain = {"pnr": "DELTA_BYTE_ARRAY", "perindkialt_13": "BYTE_STREAM_SPLIT"}
    if table.schema.names[0] == "adresse_id":
        plain["adresse_id"] = "DELTA_BYTE_ARRAY"
    encodings = {c: e for c, e in plain.items() if c in table.schema.names}
    dictionary = [c for c in table.schema.names if c not in encodings]
    tmp = path.with_suffix(".parquet.tmp")
    pq.write_table(table, tmp, use_dictionary=dictionary, column_encoding=encodings or None, **PARQUET_OPTIONS)
    tmp.replace(path)
    return path.stat().st_size


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For a sorted key array: index of the first element of each element's group."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    idx = np.where(new, np.arange(n), 0)
    return np.maximum.accumulate(idx)


def _age_weights(kind: str) -> np.ndarray:
    a = np.arange(106, dtype=np.float64)
    if kind == "dk":
        w = np.where(a < 20, 1.0, np.where(a < 30, 1.1, np.where(a < 40, 1.0, np.where(a < 60, 1.1, 0.95))))
        w = np.where(a >= 70, 0.78, w)
        w = np.where(a >= 80, 0.6 * np.exp(-(a - 80) / 6.0), w)
    elif kind == "area":  # social housing: more children and young adults, fewer elderly
        w = np.where(a < 18, 1.35, np.where(a < 35, 1.25, np.where(a < 60, 1.0, 0.75)))
        w = np.where(a >= 75, 0.55 * np.exp(-(a - 75) / 6.0), w)
    elif kind == "imm":  # immigrants: mostly working age
        w = np.exp(-0.5 * ((a - 36) / 13.0) ** 2) + 0.08
        w = np.where(a >= 80, w * np.exp(-(a - 80) / 5.0), w)
    else:  # "desc": descendants, young
        w = np.where(a < 20, 1.0, np.exp(-(a - 20) / 9.0))
    return w / w.sum()


# ---------------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------------


@dataclass
class _Codes:
    kom: np.ndarray                 # municipality codes (reference order)
    kom_region: np.ndarray          # region of each
    kom_weight: np.ndarray          # population weights
    countries: list[str]            # index -> ISO code (0 = DNK)
    nonwestern_idx: np.ndarray
    nonwestern_p: np.ndarray
    western_idx: np.ndarray
    western_p: np.ndarray
    hfaudd_by_h1: dict[int, np.ndarray]


def _load_codes() -> _Codes:
    muni = pl.read_csv(PACKAGE_DIR / "municipalities.csv", schema_overrides={"kom": pl.Int32, "region": pl.Int32})
    kom = muni["kom"].to_numpy().astype(np.int32)
    weight = np.array([MUNICIPALITY_POPULATION.get(int(k), 20_000) for k in kom], dtype=np.float64)
    countries = pl.read_csv(PACKAGE_DIR / "countries.csv", infer_schema=False)
    western = dict(zip(countries["opr_land"].to_list(), countries["western"].str.to_lowercase().eq("true").to_list()))
    names = ["DNK"]
    nw_idx, nw_p, w_idx, w_p = [], [], [], []
    for table, want_western, idx_list, p_list in (
        (NONWESTERN_ORIGINS, False, nw_idx, nw_p),
        (WESTERN_ORIGINS, True, w_idx, w_p),
    ):
        for code, wt in table.items():
            if code in western and western[code] == want_western:
                idx_list.append(len(names))
                names.append(code)
                p_list.append(wt)
    if not nw_idx or not w_idx:
        raise RuntimeError("countries.csv lacks the origins the generator uses")
    hf = pl.read_csv(PACKAGE_DIR / "hfaudd.csv", schema_overrides={"hfaudd": pl.Int32, "h1": pl.Int32})
    by_h1 = {
        int(h1): np.sort(g["hfaudd"].to_numpy().astype(np.int32))
        for (h1,), g in hf.group_by(["h1"], maintain_order=True)
    }
    return _Codes(
        kom=kom,
        kom_region=muni["region"].to_numpy().astype(np.int32),
        kom_weight=weight,
        countries=names,
        nonwestern_idx=np.array(nw_idx),
        nonwestern_p=np.array(nw_p, dtype=np.float64) / sum(nw_p),
        western_idx=np.array(w_idx),
        western_p=np.array(w_p, dtype=np.float64) / sum(w_p),
        hfaudd_by_h1=by_h1,
    )


# ---------------------------------------------------------------------------------------------
# Geography: municipalities, areas, parcels, addresses
# ---------------------------------------------------------------------------------------------


@dataclass
class _Geo:
    # areas (index = area number)
    area_id: list[str]
    area_name: list[str]
    area_kom: np.ndarray
    area_size: np.ndarray           # residents at creation
    area_d0: np.ndarray             # base deprivation 0..1
    area_nw: np.ndarray             # non-western share at creation
    area_d: np.ndarray              # deprivation per year offset: shape (n_years + 1, n_areas)
    # parcels
    parcel_kom: np.ndarray
    parcel_ejerlav: np.ndarray
    parcel_matr: pa.Array           # matrikelnr strings
    parcel_area: np.ndarray         # -1 = not in an area
    # addresses (grow over the years)
    addr_parcel: np.ndarray
    addr_kom: np.ndarray
    addr_area: np.ndarray
    addr_year: np.ndarray           # first year the address exists
    # initial population per location: persons at each address group
    n_out_kom: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _area_names(rng: np.random.Generator, n: int) -> list[str]:
    combos = [p + s for p in AREA_NAME_PREFIX for s in AREA_NAME_SUFFIX]
    combos = [c[0].upper() + c[1:] for c in combos]
    order = rng.permutation(len(combos))
    names: list[str] = []
    for q in AREA_NAME_QUALIFIER:
        for i in order:
            names.append(combos[i] + q)
            if len(names) == n:
                return names
    k = 0
    while len(names) < n:  # beyond ~4,800 areas: numbered
        k += 1
        names.append(f"{combos[order[k % len(order)]]} {k + 3}")
    return names


def _build_geography(rng: np.random.Generator, codes: _Codes, persons: int, area_share: float, n_years: int) -> _Geo:
    n_kom = len(codes.kom)
    kom_n = _apportion(persons, codes.kom_weight)

    # --- areas: sizes, municipalities -------------------------------------------------------
    target = int(round(area_share * persons))
    min_area = int(min(MIN_AREA, max(20, persons // 200)))  # tiny test populations: tiny areas
    # towns large enough to have social-housing areas, weighted towards the largest
    big = codes.kom_weight >= 38_000
    town_w = np.where(big, codes.kom_weight**1.25, 0.0)
    capacity = np.floor(0.75 * kom_n).astype(np.int64)
    area_kom_idx: list[int] = []
    area_size: list[int] = []
    total = 0
    misses = 0
    while target - total >= min_area and misses < 200:
        if rng.random() < 0.10:
            s = int(rng.integers(880, 1180))                      # areas just around 1,000
        else:
            s = int(np.clip(np.exp(rng.normal(math.log(1600), 0.55)), MIN_AREA, MAX_AREA))
        s = min(s, target - total)
        fits = (capacity >= s) & big
        if not fits.any():
            # no town has room: a small area fills the largest remaining room; a large one is
            # not shrunk below eligibility (small populations would otherwise get only tiny areas)
            best = int(np.argmax(np.where(big, capacity, -1)))
            room = int(capacity[best])
            if room < min_area or (s >= 1000 and room < 1000):
                misses += 1
                continue
            s = room
            fits = np.zeros(n_kom, dtype=bool)
            fits[best] = True
        w = np.where(fits, town_w, 0.0)
        k = int(rng.choice(n_kom, p=w / w.sum()))
        capacity[k] -= s
        area_kom_idx.append(k)
        area_size.append(s)
        total += s
    n_area = len(area_size)
    a_kom_idx = np.array(area_kom_idx, dtype=np.int64)
    a_size = np.array(area_size, dtype=np.int64)

    # deprivation: mostly moderate, a tail of strongly deprived areas
    # (large estates tend to be the more deprived ones)
    d0 = np.clip(rng.beta(1.4, 2.0, n_area) + 0.12 * np.log(a_size / 1250.0), 0.0, 1.0)
    nw = np.clip(0.05 + 0.75 * d0 + rng.normal(0, 0.16, n_area), 0.02, 0.92)
    # drift: a random walk plus, for some areas, a trend (renovation or decline)
    # drift: a random walk plus, for some areas, a trend from a random year on: a third of the
    # most deprived areas improve (renovation, development plans), a quarter of the middle ones
    # decline, a few others improve slowly
    rank = np.argsort(np.argsort(-d0, kind="stable"), kind="stable") / max(1, n_area)
    r_tr = rng.random(n_area)
    trend = np.select(
        [(rank < 0.3) & (r_tr < 0.35), (rank >= 0.3) & (rank < 0.7) & (r_tr < 0.25), r_tr < 0.1],
        [-0.06, 0.05, -0.03],
        0.0,
    )
    t_start = rng.integers(0, max(1, n_years - 1), n_area)
    steps = rng.normal(0.0, 0.05, (n_years + 1, n_area))
    steps[0] = 0.0
    years_on = np.maximum(0, np.arange(n_years + 1)[:, None] - t_start[None, :])
    d_path = d0[None, :] + np.cumsum(steps, axis=0) + trend[None, :] * years_on
    d_path = np.clip(d_path, -0.2, 1.2)

    # --- addresses --------------------------------------------------------------------------
    out_n = kom_n.copy()
    np.subtract.at(out_n, a_kom_idx, a_size)
    area_addr = np.ceil(a_size / 2.0).astype(np.int64)
    out_addr = np.ceil(out_n / 2.15).astype(np.int64)

    parcel_kom: list[np.ndarray] = []
    parcel_ejerlav: list[np.ndarray] = []
    parcel_pos: list[np.ndarray] = []
    parcel_area: list[np.ndarray] = []
    parcel_naddr: list[np.ndarray] = []
    ejerlav_count = 0
    ejerlav_kom: list[int] = []
    for k in range(n_kom):
        units_area: list[np.ndarray] = []   # parcel address counts of each area (one block each)
        units_aid: list[int] = []
        for a in np.flatnonzero(a_kom_idx == k):
            n_ad = int(area_addr[a])
            ps = rng.integers(12, 41, size=n_ad // 12 + 2)
            cs = np.cumsum(ps)
            m = int(np.searchsorted(cs, n_ad)) + 1
            ps = ps[:m].copy()
            ps[-1] -= int(cs[m - 1] - n_ad)
            if ps[-1] <= 0:
                ps = ps[:-1]
            units_area.append(ps)
            units_aid.append(int(a))
        # outside areas: houses (1 address) and apartment buildings
        n_ad = int(out_addr[k])
        n_house = int(n_ad * 0.45)
        rest = n_ad - n_house
        ps = rng.integers(4, 31, size=rest // 4 + 2)
        cs = np.cumsum(ps)
        m = int(np.searchsorted(cs, rest)) + 1 if rest > 0 else 0
        apt = ps[:m].copy()
        if m:
            apt[-1] -= int(cs[m - 1] - rest)
            apt = apt[apt > 0]
        out_sizes = np.concatenate([np.ones(n_house, dtype=np.int64), apt.astype(np.int64)])
        out_sizes = out_sizes[rng.permutation(len(out_sizes))]
        # interleave area blocks among the ordinary parcels (vectorised: units are ordinary
        # parcels, one each, and area blocks, several parcels each)
        block_sizes = np.concatenate([out_sizes] + units_area) if units_area else out_sizes
        block_area = np.concatenate(
            [np.full(len(out_sizes), -1)] + [np.full(len(u), aid) for u, aid in zip(units_area, units_aid)]
        )
        unit_len = np.concatenate([np.ones(len(out_sizes), dtype=np.int64),
                                   np.array([len(u) for u in units_area], dtype=np.int64)])
        if unit_len.sum() == 0:
            continue
        unit_start = np.cumsum(unit_len) - unit_len
        perm = rng.permutation(len(unit_len))
        lens = unit_len[perm]
        offsets = np.arange(int(lens.sum())) - np.repeat(np.cumsum(lens) - lens, lens)
        pidx = np.repeat(unit_start[perm], lens) + offsets
        k_sizes = block_sizes[pidx]
        k_area = block_area[pidx]
        n_p = len(k_sizes)
        # cadastral districts of 150-400 parcels
        cuts = np.cumsum(rng.integers(150, 401, size=n_p // 150 + 2))
        cuts = cuts[cuts < n_p]
        bounds = np.concatenate([[0], cuts, [n_p]])
        ej = np.repeat(np.arange(len(bounds) - 1), np.diff(bounds)) + ejerlav_count
        pos = np.arange(n_p) - bounds[:-1][ej - ejerlav_count]
        ejerlav_kom.extend([k] * (len(bounds) - 1))
        ejerlav_count += len(bounds) - 1
        parcel_kom.append(np.full(n_p, k))
        parcel_ejerlav.append(ej)
        parcel_pos.append(pos)
        parcel_area.append(k_area)
        parcel_naddr.append(k_sizes)
    p_kom = np.concatenate(parcel_kom)
    p_ej = np.concatenate(parcel_ejerlav)
    p_pos = np.concatenate(parcel_pos)
    p_area = np.concatenate(parcel_area).astype(np.int32)
    p_naddr = np.concatenate(parcel_naddr)
    ej_codes = (rng.choice(1_900_000, size=ejerlav_count, replace=False) + 100_000).astype(np.int32)
    letters = pa.array(["a", "b", "c"])
    matr = pc.binary_join_element_wise(
        pc.cast(pa.array(p_pos // 3 + 1), pa.string()), pc.take(letters, pa.array(p_pos % 3)), ""
    )
    addr_parcel = np.repeat(np.arange(len(p_naddr), dtype=np.int32), p_naddr)
    # order addresses by municipality, then area (so address ids read naturally)
    geo = _Geo(
        area_id=[f"A{i + 1:04d}" for i in range(n_area)],
        area_name=_area_names(rng, n_area),
        area_kom=codes.kom[a_kom_idx].astype(np.int32),
        area_size=a_size,
        area_d0=d0,
        area_nw=nw,
        area_d=d_path,
        parcel_kom=codes.kom[p_kom].astype(np.int32),
        parcel_ejerlav=ej_codes[p_ej],
        parcel_matr=matr,
        parcel_area=p_area,
        addr_parcel=addr_parcel,
        addr_kom=codes.kom[p_kom][addr_parcel].astype(np.int32),
        addr_area=p_area[addr_parcel],
        addr_year=np.zeros(len(addr_parcel), dtype=np.int32),
    )
    geo.n_out_kom = out_n
    return geo


# ---------------------------------------------------------------------------------------------
# Persons
# ---------------------------------------------------------------------------------------------


@dataclass
class _People:
    koen: np.ndarray       # int8 1/2
    byear: np.ndarray      # int16: alder on 1 Jan t = t - byear - 1
    ie: np.ndarray         # int8 1/2/3
    ctry: np.ndarray       # int16 index into codes.countries
    nw: np.ndarray         # bool: non-western immigrant or descendant
    u: np.ndarray          # float32 latent disadvantage
    addr: np.ndarray       # int32 address
    alive: np.ndarray      # bool: in Denmark
    hf_final: np.ndarray   # int32 final hfaudd
    hf_kilde: np.ndarray   # int8 source of the education record
    no_udda: np.ndarray    # bool: never in udda
    imm_year: np.ndarray   # int16 year of arrival (0 = born here / long ago)

    def __len__(self) -> int:
        return len(self.koen)

    def extend(self, other: _People) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))


def _draw_education(rng: np.random.Generator, codes: _Codes, u: np.ndarray, ie: np.ndarray, nw: np.ndarray):
    n = len(u)
    imm = ie == 2
    p_basic = _sigmoid(-1.45 + 1.0 * u + 0.35 * (imm & nw))
    basic = rng.random(n) < p_basic
    # non-basic levels ordered by attainment; lower disadvantage -> higher level
    levels = np.array([20, 30, 35, 40, 50, 60, 70, 80])
    shares = np.array([0.12, 0.38, 0.02, 0.07, 0.21, 0.05, 0.13, 0.02])
    z = -0.7 * u + rng.normal(0, 1, n)
    from statistics import NormalDist

    cuts = np.array([NormalDist(0, math.sqrt(1 + 0.49)).inv_cdf(c) for c in np.cumsum(shares)[:-1]])
    lvl = levels[np.searchsorted(cuts, z)]
    lvl = np.where(basic, np.where(rng.random(n) < 0.8, 10, 15), lvl)
    unknown = imm & (rng.random(n) < 0.06)
    lvl = np.where(unknown, 90, lvl)
    hf = np.zeros(n, dtype=np.int32)
    r = rng.random(n)
    for h1, opts in codes.hfaudd_by_h1.items():
        m = lvl == h1
        if h1 == 10:  # completed basic schooling is mostly 9th/10th grade
            opts = opts[opts != opts.min()] if len(opts) > 1 else opts
        hf[m] = opts[np.minimum((r[m] * len(opts)).astype(np.int64), len(opts) - 1)]
    # source of the record: Danish registers for persons educated here; immigrants often
    # self-reported (3) or imputed (4), which the 2018 cleaning removes
    kilde = np.ones(n, dtype=np.int8)
    rk = rng.random(n)
    kilde = np.where(imm, np.select([rk < 0.27, rk < 0.42, rk < 0.70], [1, 2, 3], 4), kilde).astype(np.int8)
    kilde = np.where(unknown, 4, kilde).astype(np.int8)
    no_udda = rng.random(n) < np.where(imm, 0.10, 0.008)
    return hf, kilde, no_udda


def _new_people(
    rng: np.random.Generator,
    codes: _Codes,
    n: int,
    nw_share: np.ndarray,
    u_mean: np.ndarray,
    age_kind_dk: str,
    year_ref: int,
    addr: np.ndarray,
    western_imm_share: float = 0.055,
) -> _People:
    """Persons of the initial population; nw_share/u_mean given per person."""
    nw = rng.random(n) < nw_share
    wimm = (~nw) & (rng.random(n) < western_imm_share)
    age = np.empty(n, dtype=np.int64)
    # non-western persons: immigrant or descendant with matching ages
    desc = nw & (rng.random(n) < 0.36)
    g_dk = ~nw & ~wimm
    for mask, kind in ((g_dk, age_kind_dk), (nw & ~desc, "imm"), (desc, "desc"), (wimm, "imm")):
        m = int(mask.sum())
        age[mask] = rng.choice(106, size=m, p=_age_weights(kind))
    ie = np.ones(n, dtype=np.int8)
    ie[nw & ~desc] = 2
    ie[desc] = 3
    wdesc = wimm & (rng.random(n) < 0.2)
    ie[wimm] = 2
    ie[wdesc] = 3
    ctry = np.zeros(n, dtype=np.int16)
    ctry[nw] = codes.nonwestern_idx[rng.choice(len(codes.nonwestern_idx), size=int(nw.sum()), p=codes.nonwestern_p)]
    ctry[wimm] = codes.western_idx[rng.choice(len(codes.western_idx), size=int(wimm.sum()), p=codes.western_p)]
    u = (u_mean + 0.45 * (nw & (ie == 2)) + 0.2 * (nw & (ie == 3)) - 0.1 * wimm + rng.normal(0, 0.95, n)).astype(np.float32)
    hf, kilde, no_udda = _draw_education(rng, codes, u, ie, nw)
    imm_year = np.where(ie == 2, year_ref - np.minimum(age, rng.integers(1, 30, n)), 0).astype(np.int16)
    return _People(
        koen=(1 + (rng.random(n) < 0.5)).astype(np.int8),
        byear=(year_ref - 1 - age).astype(np.int16),
        ie=ie,
        ctry=ctry,
        nw=nw,
        u=u,
        addr=addr.astype(np.int32),
        alive=np.ones(n, dtype=bool),
        hf_final=hf,
        hf_kilde=kilde,
        no_udda=no_udda,
        imm_year=imm_year,
    )


def _initial_population(rng: np.random.Generator, codes: _Codes, geo: _Geo, first_year: int) -> _People:
    n_area = len(geo.area_size)
    n_addr = len(geo.addr_parcel)
    # group addresses: areas first (by area), then outside areas by municipality
    lut = np.full(int(codes.kom.max()) + 1, -1, dtype=np.int64)
    lut[codes.kom] = np.arange(len(codes.kom))
    addr_kom_idx = lut[geo.addr_kom]
    group = np.where(geo.addr_area >= 0, geo.addr_area, n_area + addr_kom_idx)
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    n_groups = n_area + len(codes.kom)
    g_start = np.searchsorted(g_sorted, np.arange(n_groups))
    g_count = np.bincount(group, minlength=n_groups)
    n_in_group = np.concatenate([geo.area_size, geo.n_out_kom])
    person_group = np.repeat(np.arange(n_groups), n_in_group)
    n = len(person_group)
    r = rng.random(n)
    pick = g_start[person_group] + np.minimum((r * g_count[person_group]).astype(np.int64), g_count[person_group] - 1)
    addr = order[pick]
    in_area = person_group < n_area
    # non-western share outside areas so that the national share is about 9.5 %
    area_nw_persons = float((geo.area_nw * geo.area_size).sum())
    out_total = max(1, int(geo.n_out_kom.sum()))
    nw_out = max(0.02, (0.095 * n - area_nw_persons) / out_total)
    nw_share = np.where(in_area, geo.area_nw[np.minimum(person_group, n_area - 1)] if n_area else 0.0, nw_out)
    u_mean = np.where(in_area, AREA_U_SHIFT * geo.area_d0[np.minimum(person_group, n_area - 1)] - 0.1 if n_area else 0.0, -0.08)
    people = _new_people(rng, codes, n, nw_share, u_mean, "dk", first_year, addr)
    # area residents follow the social-housing age profile
    if in_area.any():
        dk_area = in_area & (people.ie == 1)
        age = rng.choice(106, size=int(dk_area.sum()), p=_age_weights("area"))
        people.byear[dk_area] = (first_year - 1 - age).astype(np.int16)
    # shuffle so that pnr order says nothing about where a person lives
    perm = rng.permutation(n)
    for name in people.__dataclass_fields__:
        setattr(people, name, getattr(people, name)[perm])
    assert len(people.addr) == n and n_addr > 0
    return people


# ---------------------------------------------------------------------------------------------
# Yearly outcomes
# ---------------------------------------------------------------------------------------------

EMPLOYED_GRADES = np.array([131, 132, 133, 134, 135])
SELF_EMPLOYED = np.array([110, 111, 112, 113, 114, 120])
SELF_EMPLOYED_P = np.array([0.05, 0.03, 0.07, 0.25, 0.55, 0.05])
OUTSIDE_CODES = np.array([210, 220, 321, 330, 410])
OUTSIDE_P = np.array([0.17, 0.10, 0.20, 0.28, 0.25])
OUTSIDE_OLD = np.array([210, 220, 321, 323, 330, 410])
OUTSIDE_OLD_P = np.array([0.10, 0.05, 0.30, 0.40, 0.05, 0.10])


def _socio13(rng: np.random.Generator, age: np.ndarray, x: np.ndarray, nw_imm: np.ndarray) -> np.ndarray:
    n = len(age)
    r1, r2, r3, r4 = rng.random((4, n))
    student_p = np.interp(age, [15, 17, 18, 19, 21, 24, 27, 30, 35], [0.93, 0.9, 0.75, 0.62, 0.5, 0.4, 0.22, 0.08, 0.01])
    student_p = np.where(age > 35, 0.01, student_p) * np.exp(-0.15 * np.clip(x, -2, 3))
    student = (age >= 15) & (age <= 64) & (r1 < student_p)
    out_logit = -1.5 + 1.05 * x + 0.9 * (age >= 60) + 0.35 * nw_imm
    outside = r2 < _sigmoid(out_logit)
    s = np.empty(n, dtype=np.int32)
    grade_z = -0.8 * x + rng.normal(0, 1, n)
    emp = EMPLOYED_GRADES[np.searchsorted(np.array([-0.9, 0.2, 1.0, 2.0]), -grade_z)]
    emp = np.where(r3 < 0.02, 139, emp)
    self_emp = r3 > 0.93
    emp = np.where(self_emp, SELF_EMPLOYED[np.searchsorted(np.cumsum(SELF_EMPLOYED_P)[:-1], r4)], emp)
    out_young = OUTSIDE_CODES[np.searchsorted(np.cumsum(OUTSIDE_P)[:-1], r4)]
    out_old = OUTSIDE_OLD[np.searchsorted(np.cumsum(OUTSIDE_OLD_P)[:-1], r4)]
    out = np.where(age >= 60, out_old, out_young)
    s[:] = np.where(outside, out, emp)
    teen = (age >= 15) & (age < 18)
    s = np.where(teen & ~student, np.where(r2 < 0.3, 410, 135), s)
    s = np.where(student, 310, s)
    old = age >= 65
    old_work = r2 < np.where(age < 70, 0.12, 0.02)
    s = np.where(old, np.where(old_work, np.where(r3 < 0.3, 114, 135), 322), s)
    s = np.where(age < 15, 420, s)
    return s.astype(np.int32)


def _income(rng: np.random.Generator, socio: np.ndarray, age: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = len(socio)
    z = rng.normal(0, 1, n)
    xc = np.clip(x, -2.5, 3.5)
    median = np.full(n, 80_000.0)
    sigma = np.full(n, 0.6)
    emp = (socio >= 120) & (socio < 200)
    median = np.where(emp, 380_000 * np.exp(-0.45 * xc), median)
    sigma = np.where(emp, 0.42, sigma)
    selfm = (socio >= 110) & (socio < 120)
    median = np.where(selfm, 330_000 * np.exp(-0.4 * xc), median)
    sigma = np.where(selfm, 0.85, sigma)
    for code, med, sg in ((210, 225_000, 0.25), (220, 230_000, 0.25), (321, 215_000, 0.2), (322, 230_000, 0.35),
                          (323, 255_000, 0.2), (330, 140_000, 0.25), (410, 75_000, 0.8), (310, 95_000, 0.5)):
        m = socio == code
        median = np.where(m, med * np.exp(-0.15 * xc), median)
        sigma = np.where(m, sg, sigma)
    inc = median * np.exp(sigma * z)
    teen = (age < 18) & (socio != 310)
    inc = np.where(teen, 35_000 * np.exp(0.7 * z), inc)
    inc = np.where(socio == 420, np.where(z > 1.6, 2_000 * np.exp(z), 0.0), inc)
    loss = selfm & (rng.random(n) < 0.08)
    inc = np.where(loss, -60_000 * np.exp(0.9 * z), inc)
    return np.round(inc)


def _report_education(hf_final: np.ndarray, age: np.ndarray) -> np.ndarray:
    """The highest completed education at a given age, given the final one."""
    h1 = hf_final // 100
    h1 = np.where(hf_final == 9999, 90, h1)
    done_age = np.select(
        [h1 <= 15, h1 == 20, h1 <= 35, h1 == 40, h1 <= 60, h1 == 70, h1 == 80],
        [17, 19, 21, 22, 24, 26, 30],
        0,
    )
    young = age < done_age
    partial = np.where(age >= 19, np.where(h1 >= 40, 2010, 1010), np.where(age >= 14, 1007, 1001))
    return np.where(young & (h1 != 90), partial, hf_final).astype(np.int32)


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


def generate(
    out_dir: Path,
    persons: int,
    years: tuple[int, int],
    seed: int,
    progress: Callable[[str], None] | None = None,
    area_share: float | None = None,
) -> dict:
    """Write a synthetic DATA_DIR (spec/DATA_CONTRACT.md) to `out_dir` and return a summary.

    persons: population on 1 January of the first year; years: (first, last) inclusive;
    area_share: share of the population living in housing areas (default 0.06).
    """
    out_dir = Path(out_dir)
    first, last = int(years[0]), int(years[1])
    if last < first:
        raise ValueError("years: the last year is before the first")
    if persons < 500:
        raise ValueError("persons: at least 500")
    share = 0.06 if area_share is None else float(area_share)
    if not 0.0 <= share <= 0.6:
        raise ValueError("area_share must be between 0 and 0.6")
    say = progress or (lambda _msg: None)

    rng = np.random.Generator(np.random.PCG64(seed))
    codes = _load_codes()
    say("building municipalities, parcels, addresses and housing areas")
    geo = _build_geography(rng, codes, persons, share, last - first)
    people = _initial_population(rng, codes, geo, first)
    pnr_base = int(rng.integers(1_000_000_000, 4_000_000_000))

    for sub in ("registers", "boundaries", "boundaries_corrected", "history"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    summary: dict = {
        "persons": {}, "addresses": {}, "akm": {}, "udda": {}, "ind": {}, "kraf": {},
        "areas": len(geo.area_id), "parcels": int((geo.parcel_area >= 0).sum()),
    }
    bytes_written = 0

    bytes_written += _write_boundaries(out_dir / "boundaries", geo, codes)
    corr = _corrected_boundaries(rng, geo)
    bytes_written += _write_boundary_frames(out_dir / "boundaries_corrected", *corr)
    summary["corrected"] = {"split_area": corr[2], "moved_parcels": corr[3], "new_area_ids": corr[4]}

    country_arr = pa.array(codes.countries)
    lut_region = np.zeros(int(codes.kom.max()) + 1, dtype=np.int32)
    lut_region[codes.kom] = codes.kom_region

    for t in range(first, last + 1):
        step = _Year(rng, codes, geo, people, t, first, pnr_base, country_arr, lut_region)
        files = step.run(out_dir / "registers")
        bytes_written += sum(files.values())
        people = step.people_next
        summary["persons"][t] = step.n_bef
        summary["addresses"][t] = step.n_addr
        for k in ("akm", "udda", "ind", "kraf"):
            summary[k][t] = step.rows[k]
        say(
            f"year {t}: {step.n_bef:,} persons, {step.n_addr:,} addresses, "
            f"{step.rows['kraf']:,} decisions; {sum(files.values()) / 1e6:.1f} MB"
        )
        if t == first:
            hist = _history(rng, geo, step.first_year_status, first)
            bytes_written += _write_csv(hist, out_dir / "history" / "lists.csv")
            summary["history_rows"] = hist.height
            summary["parallel_at_start"] = int(step.first_year_status["parallel"].sum())

    readme = _readme(out_dir, persons, (first, last), seed, area_share, summary)
    (out_dir / "README.md").write_text(readme, encoding="utf-8")
    summary["bytes"] = bytes_written + len(readme.encode())
    say(f"done: {summary['bytes'] / 1e6:.1f} MB in {out_dir}")
    return summary


class _Year:
    """One calendar year: write bef_t/adresser_t, simulate the year, write akm/udda/ind/kraf_t."""

    def __init__(self, rng, codes, geo, people, t, first, pnr_base, country_arr, lut_region):
        self.rng, self.codes, self.geo, self.p, self.t, self.first = rng, codes, geo, people, t, first
        self.pnr_base, self.country_arr, self.lut_region = pnr_base, country_arr, lut_region
        self.rows: dict[str, int] = {}
        self.first_year_status: pl.DataFrame | None = None

    def pnr(self, idx: np.ndarray) -> pa.Array:
        return _pad(self.pnr_base + idx.astype(np.int64) * 3, 10)

    def run(self, reg: Path) -> dict[str, int]:
        rng, geo, p, t = self.rng, self.geo, self.p, self.t
        sizes: dict[str, int] = {}
        # ---- 1 January t: population and addresses --------------------------------------------
        pop = np.flatnonzero(p.alive)
        n_addr = int((geo.addr_year <= t).sum())
        self.n_bef, self.n_addr = len(pop), n_addr
        addr_ids = _pad(np.arange(n_addr), 7)
        addr_ids = pc.binary_join_element_wise(_pad(geo.addr_kom[:n_addr], 4), addr_ids, "-")
        no_fixed = rng.random(len(pop)) < NO_ADDRESS_RATE
        a = p.addr[pop]
        bef = pa.table({
            "pnr": self.pnr(pop),
            "koen": pa.array(p.koen[pop].astype(np.int32)),
            "alder": pa.array((t - 1 - p.byear[pop].astype(np.int32)).astype(np.int32)),
            "ie_type": pa.array(p.ie[pop].astype(np.int32)),
            "opr_land": pc.take(self.country_arr, pa.array(p.ctry[pop].astype(np.int32))),
            "kom": pa.array(geo.addr_kom[a]),
            "adresse_id": pc.if_else(pa.array(no_fixed), pa.scalar(None, pa.string()), pc.take(addr_ids, pa.array(a))),
        })
        sizes["bef"] = _write_parquet(bef, reg / f"bef_{t}.parquet")
        del bef
        adr = pa.table({
            "adresse_id": addr_ids,
            "kom": pa.array(geo.addr_kom[:n_addr]),
            "ejerlavskode": pa.array(geo.parcel_ejerlav[geo.addr_parcel[:n_addr]]),
            "matrikelnr": pc.take(geo.parcel_matr, pa.array(geo.addr_parcel[:n_addr])),
        })
        sizes["adresser"] = _write_parquet(adr, reg / f"adresser_{t}.parquet")
        del adr, addr_ids

        # ---- the year: deaths, emigration, moves, new addresses, births, immigration ---------
        self._simulate(pop)
        q = self.people_next
        # persons active during t: everyone in bef_t plus the year's entrants
        active = np.concatenate([pop, np.arange(len(p), len(q))])
        active.sort()
        age = (t - q.byear[active].astype(np.int32)).astype(np.int32)  # age on 1 January t+1
        area = geo.addr_area[q.addr[active]]
        d_now = geo.area_d[t - self.first]
        x = q.u[active].astype(np.float64) + np.where(area >= 0, AREA_EFFECT * d_now[np.maximum(area, 0)], 0.0)
        nw_imm = q.nw[active] & (q.ie[active] == 2)
        n = len(active)

        socio = _socio13(rng, age, x, nw_imm)
        has_akm = rng.random(n) >= NO_AKM_RATE
        akm = pa.table({"pnr": self.pnr(active[has_akm]), "socio13": pa.array(socio[has_akm])})
        sizes["akm"] = _write_parquet(akm, reg / f"akm_{t}.parquet")
        self.rows["akm"] = akm.num_rows
        del akm

        # education on 1 October t
        hf = _report_education(q.hf_final[active], age)
        kilde = q.hf_kilde[active].astype(np.int32)
        has_udda = (age >= 15) & ~q.no_udda[active]
        null_edu = rng.random(n) < 0.001
        hf_arr = pa.array(hf[has_udda], mask=null_edu[has_udda])
        kilde_arr = pa.array(kilde[has_udda], mask=null_edu[has_udda])
        udda = pa.table({"pnr": self.pnr(active[has_udda]), "hfaudd": hf_arr, "hfaudd_kilde": kilde_arr})
        sizes["udda"] = _write_parquet(udda, reg / f"udda_{t}.parquet")
        self.rows["udda"] = udda.num_rows
        del udda

        # income for the year
        inc = _income(rng, socio, age, x)
        entrant = active >= len(p)
        leaver = (active < len(p)) & ~q.alive[active]
        part = entrant | leaver
        inc = np.where(part, np.round(inc * rng.uniform(0.05, 1.0, n)), inc)
        inc = np.where(entrant & (age <= 1), 0.0, inc)
        recent = (q.imm_year[active] >= t - 1) & (q.ie[active] == 2)
        taxable = rng.random(n) >= np.where(recent, 0.25, 0.012)
        null_inc = rng.random(n) < 0.001
        ind = pa.table({
            "pnr": self.pnr(active),
            "perindkialt_13": pa.array(inc.astype(np.float64), mask=null_inc),
            "skattepligtig": pa.array(taxable),
        })
        sizes["ind"] = _write_parquet(ind, reg / f"ind_{t}.parquet")
        self.rows["ind"] = ind.num_rows
        del ind

        # criminal decisions dated in t
        male = q.koen[active] == 1
        w = np.exp(1.05 * np.clip(x, -2.5, 3.5)) * np.where(male, 1.6, 0.4)
        w *= np.select([age < 18, age < 30, age < 45, age < 65], [1.2, 2.4, 1.3, 0.6], 0.15)
        adult = age >= 18
        w = np.where(age >= 15, w, 0.0)
        p_conv = np.minimum(0.6, CONVICTION_RATE * w / w[adult].mean())
        convicted = rng.random(n) < p_conv
        kraf, conv_flag = self._decisions(active, age, convicted, w)
        sizes["kraf"] = _write_parquet(kraf, reg / f"kraf_{t}.parquet")
        self.rows["kraf"] = kraf.num_rows
        del kraf

        if t == self.first:
            self.first_year_status = _area_status(
                self.geo, q, active, age, socio, has_akm, hf, kilde, has_udda & ~null_edu, inc, taxable & ~null_inc,
                conv_flag, self.lut_region, self.codes,
            )
        return sizes

    def _simulate(self, pop: np.ndarray) -> None:
        rng, geo, p, t = self.rng, self.geo, self.p, self.t
        q = _People(**{k: getattr(p, k).copy() for k in p.__dataclass_fields__})
        age = (t - 1 - q.byear[pop].astype(np.int32))
        n = len(pop)
        # deaths and emigration
        qx = np.minimum(0.5, np.exp(-10.3 + 0.094 * age))
        qx = np.where(age == 0, 0.003, qx)
        qx = np.where(age >= 106, 1.0, qx)
        imm = q.ie[pop] == 2
        em = np.where(imm, np.where(q.nw[pop], 0.025, 0.07), np.where((age >= 20) & (age < 40), 0.012, 0.003))
        r = rng.random(n)
        leave = r < qx + em
        q.alive[pop[leave]] = False
        stay = pop[~leave]
        # moves: swap addresses within strata (origin group, latent band, age band)
        sa = (t - 1 - q.byear[stay].astype(np.int32))
        movers = stay[rng.random(len(stay)) < MOVE_RATE * np.where((sa >= 18) & (sa < 35), 2.0, 0.7)]
        if len(movers) > 1:
            st = self._stratum(movers)
            order = np.lexsort((rng.random(len(movers)), st))
            s_sorted = st[order]
            starts = _group_starts(s_sorted)
            nxt = np.arange(len(order)) + 1
            last_in_group = np.ones(len(order), dtype=bool)
            last_in_group[:-1] = s_sorted[1:] != s_sorted[:-1]
            nxt = np.where(last_in_group, starts, nxt)
            old = q.addr[movers[order]].copy()
            q.addr[movers[order]] = old[nxt]
        # new addresses on ordinary parcels; some movers now outside areas take them
        n_now = int((geo.addr_year <= t).sum())
        n_new = int(round(0.005 * n_now))
        if n_new and len(movers):
            out_mov = movers[geo.addr_area[q.addr[movers]] < 0]
            if len(out_mov) > 2 * n_new:
                out_mov = out_mov[rng.permutation(len(out_mov))[: 2 * n_new]]
                out_mov.sort()
                src_parcels = geo.addr_parcel[q.addr[out_mov[:n_new]]]  # new flats near where movers go
                src_parcels = src_parcels[np.argsort(src_parcels, kind="stable")]
                new_ids = np.arange(len(geo.addr_parcel), len(geo.addr_parcel) + n_new, dtype=np.int32)
                geo.addr_parcel = np.concatenate([geo.addr_parcel, src_parcels.astype(np.int32)])
                geo.addr_kom = np.concatenate([geo.addr_kom, geo.parcel_kom[src_parcels]])
                geo.addr_area = np.concatenate([geo.addr_area, geo.parcel_area[src_parcels]])
                geo.addr_year = np.concatenate([geo.addr_year, np.full(n_new, t + 1, dtype=np.int32)])
                q.addr[out_mov] = new_ids[np.arange(len(out_mov)) % n_new]
        # births: to women 20-44 staying in the country
        women = stay[(q.koen[stay] == 2) & (sa >= 20) & (sa <= 44)]
        fert = 0.062 * np.where(q.nw[women] & (q.ie[women] == 2), 1.35, 1.0)
        mothers = women[rng.random(len(women)) < fert]
        mothers.sort()
        nb = len(mothers)
        m_ie = q.ie[mothers]
        b_ie = np.where(m_ie == 2, 3, np.where((m_ie == 3) & (rng.random(nb) < 0.3), 3, 1)).astype(np.int8)
        b_ctry = np.where(b_ie == 3, q.ctry[mothers], 0).astype(np.int16)
        b_nw = (b_ie == 3) & q.nw[mothers]
        b_u = (0.6 * q.u[mothers] + rng.normal(0, 0.8, nb)).astype(np.float32)
        hf, kilde, no_udda = _draw_education(rng, self.codes, b_u, b_ie, b_nw)
        babies = _People(
            koen=(1 + (rng.random(nb) < 0.487)).astype(np.int8),
            byear=np.full(nb, t, dtype=np.int16),
            ie=b_ie, ctry=b_ctry, nw=b_nw, u=b_u, addr=q.addr[mothers].copy(),
            alive=np.ones(nb, dtype=bool), hf_final=hf, hf_kilde=kilde, no_udda=no_udda,
            imm_year=np.zeros(nb, dtype=np.int16),
        )
        # immigration: about 1 % of the population a year, half of non-western origin
        ni = int(round(0.0105 * n))
        i_nw = rng.random(ni) < 0.45
        i_age = np.minimum(rng.choice(106, ni, p=_age_weights("imm")), 85)
        i_ctry = np.where(
            i_nw,
            codes_pick(rng, self.codes.nonwestern_idx, self.codes.nonwestern_p, ni),
            codes_pick(rng, self.codes.western_idx, self.codes.western_p, ni),
        ).astype(np.int16)
        i_u = (np.where(i_nw, 0.55, -0.15) + rng.normal(0, 1.0, ni)).astype(np.float32)
        i_ie = np.full(ni, 2, dtype=np.int8)
        hf, kilde, no_udda = _draw_education(rng, self.codes, i_u, i_ie, i_nw)
        no_udda |= rng.random(ni) < 0.2
        # live where similar persons live: the address of a random resident of the same stratum
        residents = stay
        st_res = self._stratum_core(q.nw[residents], q.u[residents])
        ordr = np.argsort(st_res, kind="stable")
        st_sorted = st_res[ordr]
        st_imm = self._stratum_core(i_nw, i_u)
        lo = np.searchsorted(st_sorted, st_imm, side="left")
        hi = np.searchsorted(st_sorted, st_imm, side="right")
        cnt = hi - lo
        pos = np.where(cnt > 0, lo + np.minimum((rng.random(ni) * cnt).astype(np.int64), np.maximum(cnt - 1, 0)),
                       rng.integers(0, len(residents), ni))
        i_addr = q.addr[residents[ordr[pos]]]
        imms = _People(
            koen=(1 + (rng.random(ni) < 0.5)).astype(np.int8),
            byear=(t - i_age).astype(np.int16),  # age on 1 Jan t+1 = i_age
            ie=i_ie, ctry=i_ctry, nw=i_nw, u=i_u, addr=i_addr.astype(np.int32),
            alive=np.ones(ni, dtype=bool), hf_final=hf, hf_kilde=kilde, no_udda=no_udda,
            imm_year=np.full(ni, t, dtype=np.int16),
        )
        q.extend(babies)
        q.extend(imms)
        self._relieve_crowding(q)
        self.people_next = q

    def _relieve_crowding(self, q: _People) -> None:
        """Dwellings are fixed: an area that has grown above its size moves a random sample of
        its residents (so its composition is kept) to addresses outside the areas."""
        rng, geo = self.rng, self.geo
        n_area = len(geo.area_size)
        live = np.flatnonzero(q.alive)
        area = geo.addr_area[q.addr[live]]
        if n_area == 0 or not (area >= 0).any():
            return
        cnt = np.bincount(area[area >= 0], minlength=n_area)
        excess = np.maximum(0, cnt - np.ceil(geo.area_size * 1.01)).astype(np.float64)
        p_out = np.where(area >= 0, (excess / np.maximum(cnt, 1))[np.maximum(area, 0)], 0.0)
        leave = live[rng.random(len(live)) < p_out]
        outside = live[area < 0]
        if len(leave) and len(outside):
            q.addr[leave] = q.addr[outside[rng.integers(0, len(outside), len(leave))]]

    def _stratum_core(self, nw: np.ndarray, u: np.ndarray) -> np.ndarray:
        return nw.astype(np.int64) * 20 + np.searchsorted(U_EDGES, u)

    def _stratum(self, idx: np.ndarray) -> np.ndarray:
        age = self.t - 1 - self.p.byear[idx].astype(np.int32)
        return self._stratum_core(self.p.nw[idx], self.p.u[idx]) * 4 + np.searchsorted(AGE_EDGES, age, side="right")

    def _decisions(self, active, age, convicted, w) -> tuple[pa.Table, np.ndarray]:
        rng, t = self.rng, self.t
        n = len(active)
        conv_idx = np.flatnonzero(convicted)
        n_dec = 1 + rng.poisson(0.35, len(conv_idx))
        # relevant guilty decisions
        rel_rows = np.repeat(conv_idx, n_dec)
        m = len(rel_rows)
        law = rng.choice(3, size=m, p=[0.68, 0.22, 0.10])  # criminal code, drugs, weapons
        ger7 = np.select([law == 0, law == 1], [1_000_000 + rng.integers(0, 1_000_000, m), 3_100_000 + rng.integers(0, 100_000, m)],
                         3_200_000 + rng.integers(0, 100_000, m))
        typ = rng.choice(np.array([1, 2, 3, 4, 5]), size=m, p=[0.18, 0.22, 0.45, 0.1, 0.05])
        # decisions that must not count: traffic act, other special acts, acquittals and dropped cases
        elig = age >= 15
        w_norm = w / max(w[elig].mean(), 1e-12) if elig.any() else w
        traffic = np.flatnonzero(elig & (rng.random(n) < 0.022 * np.where(age >= 18, 1.0, 0.3)))
        other = np.flatnonzero(elig & (rng.random(n) < 0.003))
        acquit = np.flatnonzero(elig & (rng.random(n) < np.minimum(0.3, 0.004 * w_norm)))
        second = rng.integers(0, 10, len(other))
        second = np.where((second == 1) | (second == 2), 9, second)
        rows = np.concatenate([rel_rows, traffic, other, acquit])
        codes_ger7 = np.concatenate([
            ger7,
            2_000_000 + rng.integers(0, 1_000_000, len(traffic)),
            3_000_000 + second * 100_000 + rng.integers(0, 100_000, len(other)),
            np.where(rng.random(len(acquit)) < 0.8, 1_000_000 + rng.integers(0, 1_000_000, len(acquit)),
                     3_100_000 + rng.integers(0, 100_000, len(acquit))),
        ])
        types = np.concatenate([
            typ,
            rng.choice(np.array([1, 2, 3, 6]), size=len(traffic), p=[0.03, 0.07, 0.85, 0.05]),
            rng.choice(np.array([3, 6, 8]), size=len(other), p=[0.8, 0.1, 0.1]),
            rng.choice(np.array([6, 7, 8]), size=len(acquit), p=[0.35, 0.35, 0.3]),
        ])
        start = (_dt.date(t, 1, 1) - _dt.date(1970, 1, 1)).days
        ndays = (_dt.date(t + 1, 1, 1) - _dt.date(t, 1, 1)).days
        day = start + rng.integers(0, ndays, len(rows))
        order = np.lexsort((types, codes_ger7, day, rows))
        rows, codes_ger7, types, day = rows[order], codes_ger7[order], types[order], day[order]
        tbl = pa.table({
            "pnr": self.pnr(active[rows]),
            "afg_dato": pa.array(day.astype(np.int32), type=pa.int32()).cast(pa.date32()),
            "afg_ger7": pc.cast(pa.array(codes_ger7.astype(np.int64)), pa.string()),
            "afg_afgtyp": pa.array(types.astype(np.int32)),
        })
        return tbl, convicted


def codes_pick(rng: np.random.Generator, idx: np.ndarray, p: np.ndarray, n: int) -> np.ndarray:
    return idx[rng.choice(len(idx), size=n, p=p)]


def _area_status(geo, q, active, age, socio, has_akm, hf, kilde, has_udda, inc, taxable, conv, lut_region, codes) -> pl.DataFrame:
    """Rough classification of the areas at the first data year (2018 rule set, one year's data):
    used to write a plausible history file. The real calculation is pipeline/calculate.py."""
    n_area = len(geo.area_id)
    resident = q.alive[active]
    area = geo.addr_area[q.addr[active]]
    in_a = resident & (area >= 0)
    ai = np.where(in_a, area, 0)

    def count(mask):
        return np.bincount(ai[mask & in_a], minlength=n_area).astype(np.float64)

    residents = count(np.ones(len(active), dtype=bool))
    a1864 = (age >= 18) & (age <= 64)
    outside = np.isin(socio, [210, 220, 321, 322, 323, 330, 410]) & has_akm
    c1 = count(a1864 & outside) / np.maximum(count(a1864), 1)
    adult = age >= 18
    nat = conv[resident & adult].mean() if (resident & adult).any() else 0.0
    c2 = count(adult & conv) / np.maximum(count(adult), 1)
    a3059 = (age >= 30) & (age <= 59)
    valid = has_udda & np.isin(kilde, [1, 2])
    basic = ~valid | (hf < 2000) | (hf == 9999)
    c3 = count(a3059 & basic) / np.maximum(count(a3059), 1)
    pop4 = (age >= 15) & (age <= 64) & taxable & ~((socio == 310) & has_akm)
    kom = geo.addr_kom[q.addr[active]]
    region = lut_region[kom]
    reg_codes = np.unique(codes.kom_region)
    reg_idx = np.searchsorted(reg_codes, region)
    reg_sum = np.bincount(reg_idx[resident & pop4], weights=inc[resident & pop4], minlength=len(reg_codes))
    reg_n = np.bincount(reg_idx[resident & pop4], minlength=len(reg_codes))
    reg_mean = reg_sum / np.maximum(reg_n, 1)
    a_sum = np.bincount(ai[in_a & pop4], weights=inc[in_a & pop4], minlength=n_area)
    a_mean = a_sum / np.maximum(count(pop4), 1)
    a_region = np.searchsorted(reg_codes, lut_region[geo.area_kom])
    c4 = a_mean / np.maximum(reg_mean[a_region], 1)
    c5 = count(q.nw[active]) / np.maximum(residents, 1)
    n_met = (c1 > 0.4).astype(int) + (c2 >= 3 * nat) + (c3 > 0.6) + (c4 < 0.55)
    eligible = residents >= 1000
    vulnerable = eligible & (n_met >= 2)
    return pl.DataFrame({
        "area": np.arange(n_area), "residents": residents.astype(np.int64), "eligible": eligible,
        "vulnerable": vulnerable, "parallel": vulnerable & (c5 > 0.5),
        "c1": c1, "c2_ratio": c2 / nat if nat > 0 else c2 * 0, "c3": c3, "c4": c4, "c5": c5,
    })


def _history(rng: np.random.Generator, geo: _Geo, status: pl.DataFrame, first: int) -> pl.DataFrame:
    """Official-looking list membership for list years before the data.

    List years min(first-4, 2014) .. the last list year before the first computable one
    (max(first+2, 2014) - 1: a list year reads registers from two years before it, and list years
    before 2014 exist only as history rows), so every year a computed list year needs is covered.
    Areas that are parallel at the first data year were on the parallel list in most earlier years (most of them for the whole period, so that transformation appears in
    the first computed years); a few other deprived areas were listed in the past and left."""
    y0, y1 = min(first - 4, 2014), max(first + 2, 2014) - 1
    years = np.arange(y0, y1 + 1)
    n_area = len(geo.area_id)
    par = status["parallel"].to_numpy()
    span = len(years)
    run = np.where(rng.random(n_area) < 0.72, span, rng.integers(1, span + 1, n_area))
    listed = np.zeros((n_area, span), dtype=bool)
    for j in range(span):
        listed[:, j] = par & (j >= span - run)
    # former list areas: deprived, non-western, not parallel now; listed in an earlier window
    former = (~par) & status["eligible"].to_numpy() & (status["c5"].to_numpy() > 0.4) & (rng.random(n_area) < 0.35)
    f_start = rng.integers(0, max(1, span - 2), n_area)
    f_len = rng.integers(1, 4, n_area)
    for j in range(span):
        listed[:, j] |= former & (j >= f_start) & (j < f_start + f_len) & (j < span - 1)
    # The history file covers a year only with a row of that year (METHOD.md § 6), so a year with
    # nobody listed would be a gap, which stops every later run. At small scale, where it happens,
    # the most non-western eligible area (any area if none is eligible) stands on that year's list.
    # No random draw: the data of every other scale stay exactly as they were.
    if n_area:
        c5 = np.nan_to_num(status["c5"].to_numpy().astype(float), nan=-1.0)
        pick = int(np.argmax(np.where(status["eligible"].to_numpy(), c5, c5 - 2.0)))
        listed[pick, ~listed.any(axis=0)] = True
    rows_a, rows_y, rows_l = [], [], []
    for j, y in enumerate(years):
        ids = np.flatnonzero(listed[:, j])
        rows_a.extend(geo.area_id[i] for i in ids)
        rows_y.extend([int(y)] * len(ids))
        rows_l.extend(["parallel"] * len(ids))
        if y >= 2018 and j >= 4:
            tr = np.flatnonzero(listed[:, j - 4 : j + 1].all(axis=1))
            rows_a.extend(geo.area_id[i] for i in tr)
            rows_y.extend([int(y)] * len(tr))
            rows_l.extend(["transformation"] * len(tr))
    df = pl.DataFrame({"area_id": rows_a, "list_year": rows_y, "list": rows_l},
                      schema={"area_id": pl.String, "list_year": pl.Int32, "list": pl.String})
    return df.sort(["list_year", "list", "area_id"])


# ---------------------------------------------------------------------------------------------
# Boundaries
# ---------------------------------------------------------------------------------------------


def _boundary_frames(geo: _Geo) -> tuple[pl.DataFrame, pl.DataFrame]:
    areas = pl.DataFrame({"area_id": geo.area_id, "area_name": geo.area_name, "kom": geo.area_kom},
                         schema={"area_id": pl.String, "area_name": pl.String, "kom": pl.Int32})
    idx = np.flatnonzero(geo.parcel_area >= 0)
    parcels = pl.DataFrame({
        "area_id": [geo.area_id[i] for i in geo.parcel_area[idx]],
        "ejerlavskode": geo.parcel_ejerlav[idx],
        "matrikelnr": pc.take(geo.parcel_matr, pa.array(idx)).to_pylist(),
        "_parcel": idx,
    }, schema={"area_id": pl.String, "ejerlavskode": pl.Int32, "matrikelnr": pl.String, "_parcel": pl.Int64})
    return areas, parcels


def _write_boundaries(folder: Path, geo: _Geo, codes: _Codes) -> int:
    areas, parcels = _boundary_frames(geo)
    return _write_boundary_frames(folder, areas, parcels.drop("_parcel"))


def _write_boundary_frames(folder: Path, areas: pl.DataFrame, parcels: pl.DataFrame, *_ignored) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    parcels = parcels.select("area_id", "ejerlavskode", "matrikelnr").sort(["area_id", "ejerlavskode", "matrikelnr"])
    return _write_csv(areas.sort("area_id"), folder / "areas.csv") + _write_csv(parcels, folder / "parcels.csv")


def _corrected_boundaries(rng: np.random.Generator, geo: _Geo):
    """A corrected boundary version: one area split in two (new ids), some parcels moved
    between areas of the same municipality, one ordinary parcel added to an area."""
    areas, parcels = _boundary_frames(geo)
    n_area = len(geo.area_id)
    counts = np.bincount(geo.parcel_area[geo.parcel_area >= 0], minlength=n_area) if n_area else np.zeros(0, int)
    split_id = None
    new_ids: list[str] = []
    moved = 0
    if n_area == 0:
        return areas, parcels, split_id, moved, new_ids
    # split: the most deprived area with at least 4 parcels (so history does not follow it)
    cand = np.flatnonzero(counts >= 4)
    if len(cand):
        s = int(cand[np.argmax(geo.area_d0[cand] * (geo.area_size[cand] >= 1500) + geo.area_d0[cand] * 0.01)])
        split_id = geo.area_id[s]
        new_ids = [f"A{n_area + 1:04d}", f"A{n_area + 2:04d}"]
        base = geo.area_name[s]
        new_areas = pl.DataFrame({"area_id": new_ids, "area_name": [f"{base} (nord)", f"{base} (syd)"],
                                  "kom": [int(geo.area_kom[s])] * 2},
                                 schema={"area_id": pl.String, "area_name": pl.String, "kom": pl.Int32})
        areas = pl.concat([areas.filter(pl.col("area_id") != split_id), new_areas])
        mine = parcels.filter(pl.col("area_id") == split_id).sort("_parcel")
        half = mine.height // 2
        halves = np.where(np.arange(mine.height) < half, new_ids[0], new_ids[1])
        mine = mine.with_columns(pl.Series("area_id", halves, dtype=pl.String))
        parcels = pl.concat([parcels.filter(pl.col("area_id") != split_id), mine])
    # moves: between pairs of areas in the same municipality
    kom_areas: dict[int, list[int]] = {}
    for i in range(n_area):
        if geo.area_id[i] != split_id:
            kom_areas.setdefault(int(geo.area_kom[i]), []).append(i)
    pairs = [(v[0], v[1]) for k, v in sorted(kom_areas.items()) if len(v) >= 2][:3]
    for src, dst in pairs:
        src_id, dst_id = geo.area_id[src], geo.area_id[dst]
        mine = parcels.filter(pl.col("area_id") == src_id).sort("_parcel")
        k = max(1, mine.height // 6) if mine.height >= 2 else 0
        if k == 0:
            continue
        take = set(mine["_parcel"].to_numpy()[-k:].tolist())
        parcels = parcels.with_columns(
            pl.when(pl.col("_parcel").is_in(list(take))).then(pl.lit(dst_id)).otherwise(pl.col("area_id")).alias("area_id")
        )
        moved += k
    # extension: one ordinary parcel next to an area joins it
    outside = np.flatnonzero(geo.parcel_area < 0)
    keep = parcels.filter(~pl.col("area_id").is_in(new_ids))
    if len(outside) and keep.height:
        first_parcel = int(keep.sort("_parcel")["_parcel"][0])
        nearest = outside[np.argmin(np.abs(outside - first_parcel))]
        target = parcels.filter(pl.col("_parcel") == first_parcel)["area_id"][0]
        ext = pl.DataFrame({"area_id": [target], "ejerlavskode": [int(geo.parcel_ejerlav[nearest])],
                            "matrikelnr": [geo.parcel_matr[int(nearest)].as_py()], "_parcel": [int(nearest)]},
                           schema=parcels.schema)
        parcels = pl.concat([parcels, ext])
        moved += 1
    return areas, parcels.drop("_parcel"), split_id, moved, new_ids


def _write_csv(df: pl.DataFrame, path: Path) -> int:
    tmp = path.with_suffix(".csv.tmp")
    df.write_csv(tmp, line_terminator="\n")
    tmp.replace(path)
    return path.stat().st_size


# ---------------------------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------------------------


def _readme(out_dir: Path, persons: int, years: tuple[int, int], seed: int, area_share: float | None, summary: dict) -> str:
    share = "" if area_share is None else f" --area-share {area_share}"
    py_share = "" if area_share is None else f", area_share={area_share}"
    per_year = "\n".join(f"| {y} | {n:,} | {summary['addresses'][y]:,} | {summary['kraf'][y]:,} |"
                         for y, n in summary["persons"].items())
    c = summary.get("corrected", {})
    return f"""# Synthetic register data (not real persons)

Everything in this folder is **synthetic**: invented by `pipeline/generate.py` from a random seed.
No row describes a real person, address or housing area. The layout and columns follow
`spec/DATA_CONTRACT.md`, so the pipeline runs on it exactly as on real extracts.

Made with:

    boliglister generate --out {out_dir.name} --persons {persons} --years {years[0]}-{years[1]} --seed {seed}{share}

which calls `pipeline.generate.generate(Path("{out_dir.name}"), {persons}, ({years[0]}, {years[1]}), {seed}{py_share})`.
The same arguments give byte-identical files.

## Contents

- `registers/{{bef,akm,udda,ind,kraf,adresser}}_YYYY.parquet` for {years[0]}-{years[1]} (zstd Parquet).
- `boundaries/areas.csv`, `parcels.csv`: {summary['areas']} housing areas, {summary['parcels']:,} parcels.
- `boundaries_corrected/`: the same with corrections: area {c.get('split_area')} split into
  {', '.join(c.get('new_area_ids', []))} (new ids, no history), {c.get('moved_parcels', 0)} parcels moved
  between areas of one municipality or added to an area; the rest unchanged.
- `history/lists.csv`: parallel-list (and from 2018 transformation) membership for list years
  before the data ({summary.get('history_rows', 0)} rows), consistent with the areas' deprivation.

| year | persons in bef (1 January) | addresses | criminal decisions |
|---|---|---|---|
{per_year}

## How the data behave

A panel: persons keep their `pnr`, age one year a year, move (~8 % a year, swapping addresses
with similar movers so the areas' composition persists), die, emigrate, are born (descendants,
`ie_type` 3, to immigrant mothers) and immigrate (`ie_type` 2, western and non-western origins).
Municipalities are weighted like Denmark's. Housing areas are sets of apartment parcels in the
larger towns. Each area has a deprivation level that drifts slowly over the years (some areas
improve, a few decline); employment (`socio13`), education, income and convictions depend on a
person's persistent latent disadvantage and on the area's current deprivation, so areas appear on
and leave the lists of spec/METHOD.md. Immigrants' education is often self-reported (source 3) or
imputed (4), which the 2018 cleaning removes. The criminal register also holds traffic-act
decisions, other special acts and acquittals, which must not count. A few persons have no fixed
address, no `akm` or `udda` record, a null income or are not fully taxable.
"""
