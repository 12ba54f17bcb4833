-- int_national_counts: per list year Y and region (null: a municipality the code list lacks), counts
-- over all of Denmark from one national join of bef_Y with ind, akm and udda of Y-1. No person-level
-- row is kept.
--   * The C4 population (METHOD.md § 3, C4) and the sum of its incomes in whole øre (the region's
--     mean income is income_sum_ore / persons): aged in the income band on 1 January Y, fully
--     taxable in Y-1, not a student in Y-1 (no akm record = not a student), with a non-null income
--     for Y-1. Region by bef.kom.
--   * The coverage counts of the quality suite (pipeline.quality.profiles): the persons of each
--     coverage age band and those of them with a record of Y-1 in akm, udda, ind.
-- The registers' person keys are unique (ingestion's blocking check), so each left join finds at
-- most one record per person.
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

persons as (
    select
        municipalities.region,
        bef.alder,
        ind.pnr is not null as has_ind,
        akm.pnr is not null as has_akm,
        udda.pnr is not null as has_udda,
        bef.alder between $income_min and $income_max
            and coalesce(
                ind.skattepligtig
                and ind.perindkialt_13 is not null
                and (akm.socio13 is null or akm.socio13 not in (select socio13 from student_codes)),
                false
            ) as in_income_population,
        cast(round(ind.perindkialt_13 * 100) as bigint) as income_ore
    from bef
    left join ind using (pnr)
    left join akm using (pnr)
    left join udda using (pnr)
    left join municipalities using (kom)
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        region,
        count(*) filter (where in_income_population) as persons,
        cast(coalesce(sum(income_ore) filter (where in_income_population), 0) as hugeint) as income_sum_ore,
        count(*) filter (where alder between $akm_min and $akm_max) as akm_band_persons,
        count(*) filter (where alder between $akm_min and $akm_max and has_akm) as akm_band_with_record,
        count(*) filter (where alder between $udda_min and $udda_max) as udda_band_persons,
        count(*) filter (where alder between $udda_min and $udda_max and has_udda) as udda_band_with_record,
        count(*) filter (where alder between $ind_min and $ind_max) as ind_band_persons,
        count(*) filter (where alder between $ind_min and $ind_max and has_ind) as ind_band_with_record
    from persons
    group by region
)

select * from final
