-- int_national_population: every person of bef_Y aged in the income band on 1 January Y (all of
-- Denmark), with what the registers of Y-1 hold for them. One national join serves two purposes:
--   * the C4 population (METHOD.md § 3, C4): `in_income_population` = fully taxable in Y-1, not
--     a student in Y-1 (no akm record = not a student), with a non-null income for Y-1; its
--     income in whole øre (null outside it); region by bef.kom;
--   * the coverage shares of the quality suite (pipeline.quality.profiles): `has_ind`, `has_akm`,
--     `has_udda` = the person has a record in ind, akm, udda of Y-1.
-- Parameters: $list_year, $params_key, $income_min, $income_max, $student_group.
with

bef as (
    select pnr, alder, kom from stg_bef where year = $list_year
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

joined as (
    select
        bef.pnr,
        bef.alder,
        municipalities.region,
        ind.pnr is not null as has_ind,
        akm.pnr is not null as has_akm,
        udda.pnr is not null as has_udda,
        coalesce(
            ind.skattepligtig
            and ind.perindkialt_13 is not null
            and (akm.socio13 is null or akm.socio13 not in (select socio13 from student_codes)),
            false
        ) as in_income_population,
        ind.perindkialt_13
    from bef
    left join ind using (pnr)
    left join akm using (pnr)
    left join udda using (pnr)
    left join municipalities using (kom)
    where bef.alder between $income_min and $income_max
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        pnr,
        alder,
        region,
        has_ind,
        has_akm,
        has_udda,
        in_income_population,
        case when in_income_population then cast(round(perindkialt_13 * 100) as bigint) end as income_ore
    from joined
)

select * from final
