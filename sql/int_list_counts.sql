-- int_list_counts: per list year Y and area, the counts on the reference date (1 January Y):
-- residents; C3 (30-59, only basic schooling or no valid education record in udda_{Y-1});
-- C4 (the income population's count and income sum in øre); C5 (non-western immigrants and
-- descendants). Parameters: $list_year, $params_key, $education_min, $education_max,
-- $all_sources (true: every record with a known code is valid; false: only sources that are
-- danish_or_approved), $income_min, $income_max, $student_group.
with

residents as (
    select pnr, area_id, alder, ie_type, opr_land
    from int_residents
    where year = $list_year
),

areas as (
    select area_id from stg_areas
),

udda as (
    select pnr, hfaudd, hfaudd_kilde from stg_udda where year = $list_year - 1
),

levels as (
    select hfaudd.hfaudd, levels.basic_only
    from ref_hfaudd as hfaudd
    inner join ref_education_levels as levels using (h1)
),

sources as (
    select hfaudd_kilde, danish_or_approved from ref_education_sources
),

ind as (
    select pnr, perindkialt_13, skattepligtig from stg_ind where year = $list_year - 1
),

student_codes as (
    select socio13 from ref_socio13 where grp = $student_group
),

-- persons of Y-1 in a student group, as in int_national_counts
students as (
    select pnr
    from stg_akm
    where year = $list_year - 1 and pnr is not null and socio13 in (select socio13 from student_codes)
),

countries as (
    select opr_land, western from ref_countries
),

education_status as (
    select
        residents.area_id,
        (
            levels.hfaudd is not null
            and ($all_sources or coalesce(sources.danish_or_approved, false))
        ) as valid_record,
        coalesce(levels.basic_only, false) as basic_only
    from residents
    left join udda using (pnr)
    left join levels on levels.hfaudd = udda.hfaudd
    left join sources on sources.hfaudd_kilde = udda.hfaudd_kilde
    where residents.alder between $education_min and $education_max
),

education as (
    select
        area_id,
        count(*) as education_pop,
        count(*) filter (where not valid_record or basic_only) as education_basic
    from education_status
    group by area_id
),

-- the C4 population among the residents: as in int_national_counts (aged in the income band,
-- fully taxable, not a student, income known), with incomes in whole øre
income as (
    select
        residents.area_id,
        count(*) as income_pop,
        -- whole øre as in int_national_counts (the decimal path only near a half)
        cast(sum(case
            when abs(ind.perindkialt_13) < 1e7
                and abs(abs(ind.perindkialt_13 * 100 - trunc(ind.perindkialt_13 * 100)) - 0.5) > 1e-5
            then cast(round(ind.perindkialt_13 * 100) as bigint)
            else cast(round(cast(ind.perindkialt_13 as decimal(38, 8)) * 100) as bigint)
        end) as hugeint) as income_sum_ore
    from residents
    inner join ind using (pnr)
    where residents.alder between $income_min and $income_max
        and ind.skattepligtig
        and ind.perindkialt_13 is not null
        and residents.pnr not in (select pnr from students)
    group by residents.area_id
),

origin as (
    select
        residents.area_id,
        count(*) as residents,
        count(*) filter (
            where residents.ie_type in (2, 3) and countries.western = false
        ) as nonwestern
    from residents
    left join countries using (opr_land)
    group by residents.area_id
),

final as (
    select
        cast($list_year as integer) as list_year,
        cast($params_key as varchar) as params_key,
        areas.area_id,
        coalesce(origin.residents, 0) as residents,
        coalesce(education.education_pop, 0) as education_pop,
        coalesce(education.education_basic, 0) as education_basic,
        coalesce(income.income_pop, 0) as income_pop,
        coalesce(income.income_sum_ore, 0) as income_sum_ore,
        coalesce(origin.nonwestern, 0) as nonwestern
    from areas
    left join origin using (area_id)
    left join education using (area_id)
    left join income using (area_id)
)

select * from final
