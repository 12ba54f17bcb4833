-- int_convicted: persons with at least one guilty decision dated in data year t whose crime code
-- falls under a relevant law. The longest matching prefix of ref_crime_laws decides the law
-- (31... is the drugs act although 3... is "other special acts"). One row per person and year.
-- Parameters: $data_year.
with

kraf as (
    select pnr, afg_ger7, afg_afgtyp
    from stg_kraf
    where year = $data_year
),

guilty_types as (
    select afg_afgtyp from ref_decision_types where guilty
),

codes as (
    select distinct afg_ger7 from kraf
),

code_law as (
    select
        codes.afg_ger7,
        arg_max(laws.relevant, length(laws.ger7_prefix)) as relevant
    from codes
    inner join ref_crime_laws as laws on starts_with(codes.afg_ger7, laws.ger7_prefix)
    group by codes.afg_ger7
),

final as (
    select distinct
        cast($data_year as integer) as data_year,
        kraf.pnr
    from kraf
    inner join code_law using (afg_ger7)
    where code_law.relevant
        and kraf.afg_afgtyp in (select afg_afgtyp from guilty_types)
)

select * from final
