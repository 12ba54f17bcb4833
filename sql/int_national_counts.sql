-- int_national_counts: per list year Y and region (null: a municipality the code list lacks), counts
-- over all of Denmark from bef_Y with ind, akm and udda of Y-1. No person-level row is kept.
--   * The C4 population (METHOD.md § 3, C4) and the sum of its incomes in whole øre (the region's
--     mean income is income_sum_ore / persons): aged in the income band on 1 January Y, fully
--     taxable in Y-1, not a student in Y-1 (no akm record = not a student), with a non-null income
--     for Y-1. Region by bef.kom.
--   * The coverage counts of the quality suite (pipeline.quality.profiles): the persons of each
--     coverage age band and those of them with a record of Y-1 in akm, udda, ind.
-- Each register is joined on its own, with only the persons and columns its count needs (one join
-- of everything was a quarter slower at national scale), and counted per municipality first.
-- The registers' person keys are unique (ingestion's blocking check), so a join finds at most one
-- record per person.
-- Parameters: $list_year, $params_key, $income_min, $income_max, $student_group, $akm_min,
-- $akm_max, $udda_min, $udda_max, $ind_min, $ind_max.
with

bef as (
    select pnr, alder, kom
    from stg_bef
    where year = $list_year
        and alder between least($income_min, $akm_min, $udda_min, $ind_min)
            and greatest($income_max, $akm_max, $udda_max, $ind_max)
),

ind as (
    select pnr, perindkialt_13, skattepligtig from stg_ind where year = $list_year - 1
),

akm as (
    select pnr, socio13 from stg_akm where year = $list_year - 1
),

udda as (
    select pnr from stg_udda where year = $list_year - 1
),

student_codes as (
    select socio13 from ref_socio13 where grp = $student_group
),

municipalities as (
    select kom, region from ref_municipalities
),

-- persons of Y-1 in a student group: a small share of akm (without null keys, with which the
-- `not in` below would be null for everybody; the code lists have no empty codes)
students as (
    select pnr from akm where pnr is not null and socio13 in (select socio13 from student_codes)
),

-- bef_Y with an ind record of Y-1, in the income band or the ind coverage band
with_ind as (
    select
        bef.kom,
        bef.alder,
        bef.alder between $income_min and $income_max
            and coalesce(ind.skattepligtig and ind.perindkialt_13 is not null, false)
            and bef.pnr not in (select pnr from students) as in_income_population,
        -- whole øre, half away from zero, on the income's decimal value to 8 places (1.005 DKK is
        -- 101 øre). Rounding the double income × 100 gives the same whole øre when it lies more than
        -- 1e-5 from a half and |income| < 10 M DKK (the two differ by under 3e-6 øre there); only the
        -- rest takes the exact 128-bit decimal (about 1 CPU-s less nationally). Same in int_list_counts.
        case
            when abs(ind.perindkialt_13) < 1e7
                and abs(abs(ind.perindkialt_13 * 100 - trunc(ind.perindkialt_13 * 100)) - 0.5) > 1e-5
            then cast(round(ind.perindkialt_13 * 100) as bigint)
            else cast(round(cast(ind.perindkialt_13 as decimal(38, 8)) * 100) as bigint)
        end as income_ore
    from bef
    inner join ind using (pnr)
    where bef.alder between least($income_min, $ind_min) and greatest($income_max, $ind_max)
),

income_by_kom as (
    select
        kom,
        count(*) filter (where in_income_population) as persons,
        cast(coalesce(sum(income_ore) filter (where in_income_population), 0) as hugeint) as income_sum_ore,
        count(*) filter (where alder between $ind_min and $ind_max) as ind_band_with_record
    from with_ind
    group by kom
),

akm_by_kom as (
    select bef.kom, count(*) as akm_band_with_record
    from bef
    inner join akm using (pnr)
    where bef.alder between $akm_min and $akm_max
    group by bef.kom
),

udda_by_kom as (
    select bef.kom, count(*) as udda_band_with_record
    from bef
    inner join udda using (pnr)
    where bef.alder between $udda_min and $udda_max
    group by bef.kom
),

bands_by_kom as (
    select
        kom,
        count(*) filter (where alder between $akm_min and $akm_max) as akm_band_persons,
        count(*) filter (where alder between $udda_min and $udda_max) as udda_band_persons,
        count(*) filter (where alder between $ind_min and $ind_max) as ind_band_persons
    from bef
    group by kom
),

-- every municipality of bef_Y in the bands (the others are subsets of it); `is not distinct from`
-- keeps a missing municipality code a group of its own, as the region lookup does
by_kom as (
    select
        bands_by_kom.kom,
        coalesce(income_by_kom.persons, 0) as persons,
        coalesce(income_by_kom.income_sum_ore, 0) as income_sum_ore,
        bands_by_kom.akm_band_persons,
        coalesce(akm_by_kom.akm_band_with_record, 0) as akm_band_with_record,
        bands_by_kom.udda_band_persons,
        coalesce(udda_by_kom.udda_band_with_record, 0) as udda_band_with_record,
        bands_by_kom.ind_band_persons,
        coalesce(income_by_kom.ind_band_with_record, 0) as ind_band_with_record
    from bands_by_kom
    left join income_by_kom on income_by_kom.kom is not distinct from bands_by_kom.kom
    left join akm_by_kom on akm_by_kom.kom is not distinct from bands_by_kom.kom
    left join udda_by_kom on udda_by_kom.kom is not distinct from bands_by_kom.kom
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        municipalities.region,
        cast(sum(by_kom.persons) as bigint) as persons,
        cast(sum(by_kom.income_sum_ore) as hugeint) as income_sum_ore,
        cast(sum(by_kom.akm_band_persons) as bigint) as akm_band_persons,
        cast(sum(by_kom.akm_band_with_record) as bigint) as akm_band_with_record,
        cast(sum(by_kom.udda_band_persons) as bigint) as udda_band_persons,
        cast(sum(by_kom.udda_band_with_record) as bigint) as udda_band_with_record,
        cast(sum(by_kom.ind_band_persons) as bigint) as ind_band_persons,
        cast(sum(by_kom.ind_band_with_record) as bigint) as ind_band_with_record
    from by_kom
    left join municipalities using (kom)
    group by municipalities.region
)

select * from final
