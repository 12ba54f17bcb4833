-- int_convicted: persons with at least one guilty decision dated in data year t whose crime code
-- falls under a relevant law. The longest matching prefix of ref_crime_laws decides the law
-- (31... is the drugs act although 3... is "other special acts"). One row per person, year and
-- crime key: which laws are relevant and which decision types guilty is a parameter of the rule
-- set (METHOD.md § 8), by default the code lists' own `relevant` and `guilty` columns.
-- Parameters: $data_year, $crime_key, $relevant_laws (law names, or null: ref_crime_laws.relevant),
-- $guilty_types (afg_afgtyp codes, or null: ref_decision_types.guilty).
with

kraf as (
    select pnr, afg_ger7, afg_afgtyp
    from stg_kraf
    where year = $data_year
),

decision_types as (
    select afg_afgtyp, guilty from ref_decision_types
),

crime_laws as (
    select ger7_prefix, law, relevant from ref_crime_laws
),

choice as (
    select
        cast($relevant_laws as varchar[]) as laws,
        cast($guilty_types as integer[]) as types
),

guilty_types as (
    select decision_types.afg_afgtyp
    from decision_types
    cross join choice
    where case
        when choice.types is null then decision_types.guilty
        else list_contains(choice.types, decision_types.afg_afgtyp)
    end
),

codes as (
    select distinct afg_ger7 from kraf
),

-- the law of each crime code: its longest matching prefix
code_prefix as (
    select
        codes.afg_ger7,
        arg_max(crime_laws.ger7_prefix, length(crime_laws.ger7_prefix)) as ger7_prefix
    from codes
    inner join crime_laws on starts_with(codes.afg_ger7, crime_laws.ger7_prefix)
    group by codes.afg_ger7
),

relevant_codes as (
    select code_prefix.afg_ger7
    from code_prefix
    inner join crime_laws using (ger7_prefix)
    cross join choice
    where case
        when choice.laws is null then crime_laws.relevant
        else list_contains(choice.laws, crime_laws.law)
    end
),

final as (
    select distinct
        cast($data_year as integer) as data_year,
        cast($crime_key as varchar) as crime_key,
        kraf.pnr
    from kraf
    inner join relevant_codes using (afg_ger7)
    where kraf.afg_afgtyp in (select afg_afgtyp from guilty_types)
)

select * from final
