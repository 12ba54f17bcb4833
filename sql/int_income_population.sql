-- int_income_population: the persons of bef_Y in the C4 population (METHOD.md § 3, C4): aged in
-- the income band on 1 January Y, fully taxable in Y-1, not a student in Y-1 (no akm record = not
-- a student), with a non-null income for Y-1. Incomes in whole øre. Region by bef.kom.
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

student_codes as (
    select socio13 from ref_socio13 where grp = $student_group
),

municipalities as (
    select kom, region from ref_municipalities
),

eligible as (
    select
        bef.pnr,
        municipalities.region,
        cast(round(ind.perindkialt_13 * 100) as bigint) as income_ore
    from bef
    inner join ind using (pnr)
    left join akm using (pnr)
    left join municipalities using (kom)
    where bef.alder between $income_min and $income_max
        and ind.skattepligtig
        and ind.perindkialt_13 is not null
        and (akm.socio13 is null or akm.socio13 not in (select socio13 from student_codes))
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        *
    from eligible
)

select * from final
