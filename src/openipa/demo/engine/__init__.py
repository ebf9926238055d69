"""The synthetic demo IPA: a Southern-California IPA generated from a seed, as plain frozen records.

Pure: no Django, no I/O, no clock. Everything random comes from one `random.Random(seed)`, drawn in a fixed
order while walking tuples (never dict or set iteration), so the same `(seed, members, as_of)` always gives
the same records on any machine. `openipa.demo.services.build_demo` loads them into the database.

For the defaults (25,000 members) it makes:

- 5 regions; about 40 practices (primary-care groups, multispecialty groups, an FQHC, specialty groups,
  behavioral-health groups and social-services organizations) with 1-3 locations each, valid TINs,
  California addresses, synthetic bank details, one participation agreement each (admin-fee terms) and
  their contract participations;
- about 150 providers with valid NPIs and NUCC taxonomy codes: ~60% PCPs (with panel limits), ~25%
  specialists, ~10% behavioral health, a few social-services providers, and the FQHC as a facility;
- 3 payers, one per line of business, with products, one capitated-risk contract each and two yearly term
  versions (PMPM rate table by product x age band x sex, admin fee, reinsurance, withhold, a 6-month retro
  window, proration rule) with a DOFR table;
- members with a realistic age/sex mix per product, 12 months of eligibility ending with the as-of month
  (most continuous; some join late, leave early, have a gap, switch product or die) and PCP assignment
  spans that respect panel limits and the practices' contract participation; some members change PCP.

Above 25,000 members the network grows with the square root of the membership, and panel limits grow if
the PCPs could not otherwise hold every member.

Money is integer cents; percentages are `Decimal`. Dates are inclusive; an end of None is open-ended.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import TypeVar

from openipa.core.identifiers import generate_mbi, generate_npi, generate_tin
from openipa.core.months import Month, age_on

DEFAULT_MEMBERS = 25_000
DEFAULT_PRACTICES = 40
DEFAULT_PROVIDERS = 150
ELIGIBILITY_MONTHS = 12
STATE = "CA"

T = TypeVar("T")

# ------------------------------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class RegionSpec:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class PracticeSpec:
    code: str
    legal_name: str
    dba_name: str
    category: str  # primary_care, multispecialty, fqhc, specialty, behavioral, social (not stored)
    tin: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    zip_code: str
    phone: str
    region_code: str
    bank_name: str
    bank_routing_number: str
    bank_account_number: str


@dataclass(frozen=True, slots=True)
class LocationSpec:
    practice_code: str
    name: str
    address_line1: str
    city: str
    state: str
    zip_code: str
    phone: str
    is_primary: bool


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    npi: str
    first_name: str  # empty for an organization
    last_name: str  # or the organization's name
    degree: str
    taxonomy_code: str
    specialty: str
    kind: str  # pcp, specialist, behavioral, social, facility (Provider.Kind values)
    accepting_new_patients: bool
    panel_limit: int | None
    date_of_birth: dt.date | None
    personal_phone: str


@dataclass(frozen=True, slots=True)
class AffiliationSpec:
    provider_npi: str
    practice_code: str
    location_index: int  # position in the practice's locations, in the order they are listed
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class AgreementSpec:
    practice_code: str
    status: str
    admin_fee_percent: Decimal
    admin_fee_pmpm_cents: int
    signed_on: dt.date
    valid_from: dt.date
    valid_to: dt.date | None
    notes: str


@dataclass(frozen=True, slots=True)
class ParticipationSpec:
    practice_code: str
    contract_number: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class PayerSpec:
    code: str
    name: str
    x12_payer_id: str
    line_of_business: str


@dataclass(frozen=True, slots=True)
class ProductSpec:
    payer_code: str
    code: str
    name: str
    line_of_business: str  # medicare_advantage, medicaid, commercial (LineOfBusiness values)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    payer_code: str
    number: str
    name: str
    legal_basis: str
    status: str
    valid_from: dt.date
    valid_to: dt.date | None
    product_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RateCellSpec:
    product_code: str
    age_min: int
    age_max: int
    sex: str  # F, M or U (any)
    pmpm_cents: int


@dataclass(frozen=True, slots=True)
class DofrSpec:
    service_category: str
    responsible_party: str  # ipa, plan, hospital, shared
    notes: str


@dataclass(frozen=True, slots=True)
class TermSpec:
    contract_number: str
    valid_from: dt.date
    valid_to: dt.date | None
    capitation_basis: str
    admin_fee_percent: Decimal
    admin_fee_pmpm_cents: int
    reinsurance_pmpm_cents: int
    withhold_percent: Decimal
    retro_window_months: int
    proration_rule: str  # cutoff or daily
    cutoff_day: int
    age_reference_month: int
    notes: str
    rate_cells: tuple[RateCellSpec, ...]
    dofr: tuple[DofrSpec, ...]


@dataclass(frozen=True, slots=True)
class MemberSpec:
    payer_code: str
    payer_member_id: str
    mbi: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    date_of_death: dt.date | None
    sex: str
    address_line1: str
    city: str
    state: str
    zip_code: str
    phone: str
    language: str
    region_code: str  # where the member lives (not stored; drives PCP choice)


@dataclass(frozen=True, slots=True)
class EligibilitySpec:
    member: int  # index into DemoData.members
    product_code: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class PcpAssignmentSpec:
    member: int  # index into DemoData.members
    provider_npi: str
    practice_code: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True, slots=True)
class DemoData:
    seed: int
    as_of: Month
    regions: tuple[RegionSpec, ...]
    practices: tuple[PracticeSpec, ...]  # primary care first, then specialty, behavioral, social; by name
    locations: tuple[LocationSpec, ...]
    providers: tuple[ProviderSpec, ...]
    affiliations: tuple[AffiliationSpec, ...]
    agreements: tuple[AgreementSpec, ...]
    participations: tuple[ParticipationSpec, ...]
    payers: tuple[PayerSpec, ...]
    products: tuple[ProductSpec, ...]
    contracts: tuple[ContractSpec, ...]
    terms: tuple[TermSpec, ...]
    members: tuple[MemberSpec, ...]
    eligibility: tuple[EligibilitySpec, ...]
    pcp_assignments: tuple[PcpAssignmentSpec, ...]

    @property
    def first_month(self) -> Month:
        """The first month of the eligibility window (11 months before the as-of month)."""
        return self.as_of - (ELIGIBILITY_MONTHS - 1)

    def fingerprint(self) -> str:
        """A SHA-256 over every record: equal fingerprints mean equal data."""
        digest = hashlib.sha256()
        for part in (
            self.regions,
            self.practices,
            self.locations,
            self.providers,
            self.affiliations,
            self.agreements,
            self.participations,
            self.payers,
            self.products,
            self.contracts,
            self.terms,
            self.members,
            self.eligibility,
            self.pcp_assignments,
        ):
            for record in part:
                digest.update(repr(record).encode())
                digest.update(b"\n")
        return digest.hexdigest()


# ------------------------------------------------------------------------------------- name tables


def _words(text: str) -> tuple[str, ...]:
    """A tuple of names from one comma-separated string (the tables below stay readable that way)."""
    return tuple(word.strip() for word in text.split(",") if word.strip())


@dataclass(frozen=True, slots=True)
class _Heritage:
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]
    language: str  # the language other than English a household may prefer
    other_language_share: float


_HERITAGES: tuple[_Heritage, ...] = (
    _Heritage(  # 0 Latino
        female=_words(
            "Maria, Guadalupe, Rosa, Ana, Carmen, Veronica, Leticia, Alejandra, Gabriela, Daniela, "
            "Sofia, Isabella, Valeria, Ximena, Camila, Yesenia, Lucia, Adriana, Patricia, Elena, "
            "Marisol, Esperanza, Juana, Claudia, Monica, Angelica, Teresa, Brenda, Karina, Natalia"
        ),
        male=_words(
            "Jose, Juan, Luis, Carlos, Jesus, Miguel, Francisco, Antonio, Alejandro, Jorge, Ricardo, "
            "Eduardo, Manuel, Roberto, Fernando, Javier, Daniel, Diego, Mateo, Santiago, Angel, "
            "Oscar, Raul, Sergio, Andres, Emiliano, Adrian, Hector, Ruben, Arturo"
        ),
        last=_words(
            "Garcia, Rodriguez, Martinez, Hernandez, Lopez, Gonzalez, Perez, Sanchez, Ramirez, "
            "Torres, Flores, Rivera, Gomez, Diaz, Reyes, Morales, Cruz, Ortiz, Gutierrez, Chavez, "
            "Ramos, Ruiz, Alvarez, Mendoza, Castillo, Jimenez, Vasquez, Moreno, Romero, Herrera, "
            "Medina, Aguilar, Vargas, Guzman, Salazar, Castro, Delgado, Navarro, Cervantes, Ibarra"
        ),
        language="Spanish",
        other_language_share=0.45,
    ),
    _Heritage(  # 1 White
        female=_words(
            "Jennifer, Elizabeth, Sarah, Emily, Jessica, Ashley, Amanda, Megan, Lauren, Rachel, "
            "Katherine, Susan, Linda, Barbara, Patricia, Nancy, Karen, Margaret, Dorothy, Helen, "
            "Olivia, Emma, Ava, Charlotte, Abigail, Madison, Hannah, Grace, Claire, Julia"
        ),
        male=_words(
            "James, John, Robert, Michael, William, David, Richard, Thomas, Charles, Christopher, "
            "Matthew, Andrew, Joshua, Ryan, Tyler, Brandon, Kevin, Steven, Mark, Paul, George, "
            "Donald, Kenneth, Edward, Liam, Noah, Ethan, Benjamin, Henry, Jack"
        ),
        last=_words(
            "Smith, Johnson, Williams, Brown, Miller, Davis, Wilson, Anderson, Taylor, Thomas, Moore, "
            "Martin, Thompson, White, Clark, Lewis, Walker, Hall, Allen, Young, King, Wright, Scott, "
            "Green, Baker, Adams, Nelson, Hill, Campbell, Mitchell, Roberts, Carter, Phillips, Evans, "
            "Turner, Parker, Collins, Edwards, Stewart, Morris, Murphy, Cook, Rogers, Morgan, Cooper, "
            "Peterson, Reed, Bailey, Bell, Kelly, Howard, Ward, Cox, Richardson, Wood, Brooks, "
            "Bennett, Gray, Hughes, Price, Sullivan, Russell, Foster, Hayes, Myers, Ford, Hamilton, "
            "Graham, Fischer, Schmidt, Weber, Larson, Olsen, Novak, Kowalski"
        ),
        language="English",
        other_language_share=0.0,
    ),
    _Heritage(  # 2 Vietnamese
        female=_words(
            "Linh, Lan, Mai, Hoa, Thu, Trang, Ngoc, Huong, Thao, Phuong, Anh, Hanh, Nhung, Tuyet, "
            "Kim, Vy, Quynh, Diem, Loan, Hien"
        ),
        male=_words(
            "Minh, Tuan, Duc, Hung, Nam, Long, Thanh, Quang, Khoa, Bao, Phuc, Vinh, Hieu, Dung, Son, "
            "Tai, Trung, Cuong, Huy, Khanh"
        ),
        last=_words(
            "Nguyen, Tran, Le, Pham, Hoang, Huynh, Phan, Vu, Vo, Dang, Bui, Do, Ho, Ngo, Duong, Ly, "
            "Truong, Dinh, Lam, Mai"
        ),
        language="Vietnamese",
        other_language_share=0.45,
    ),
    _Heritage(  # 3 Filipino
        female=_words(
            "Maria, Rosario, Cristina, Marites, Jocelyn, Maricel, Angelica, Lorna, Imelda, Teresita, "
            "Divina, Jasmine, Kristine, Leah, Aileen, Rowena, Nenita, Erlinda, Corazon, Liza"
        ),
        male=_words(
            "Jose, Antonio, Rodrigo, Eduardo, Ramon, Rogelio, Ferdinand, Reynaldo, Jericho, Mark, "
            "Paolo, Christian, Renato, Danilo, Romeo, Arnel, Noel, Ariel, Jaime, Emmanuel"
        ),
        last=_words(
            "Santos, Reyes, Cruz, Bautista, Ocampo, Garcia, Mendoza, Torres, Tolentino, Castillo, "
            "Villanueva, Aquino, Ramos, Dela Cruz, De Leon, Manalo, Pascual, Soriano, Navarro, "
            "Mercado, Dizon, Salvador, Gonzales, Santiago, Macaraeg"
        ),
        language="Tagalog",
        other_language_share=0.25,
    ),
    _Heritage(  # 4 Chinese
        female=_words(
            "Mei, Li, Hui, Xiu, Yan, Ling, Jing, Fang, Wei, Ying, Xin, Lily, Grace, Amy, Jenny, "
            "Angela, Vivian, Winnie, Irene, Cindy"
        ),
        male=_words(
            "Wei, Jun, Hao, Ming, Jian, Lei, Qiang, Bo, Chen, Yong, Kevin, Eric, Jason, Andrew, Tony, "
            "Henry, Peter, Vincent, Raymond, Jimmy"
        ),
        last=_words(
            "Wang, Li, Zhang, Liu, Chen, Yang, Huang, Zhao, Wu, Zhou, Xu, Sun, Ma, Zhu, Hu, Guo, He, "
            "Lin, Luo, Gao, Wong, Chan, Lee, Leung, Chang, Ho, Lau, Cheung, Kwan, Yee"
        ),
        language="Chinese",
        other_language_share=0.45,
    ),
    _Heritage(  # 5 Korean
        female=_words(
            "Ji-yeon, Min-ji, Seo-yeon, Soo-jin, Eun-ji, Hye-jin, Yoon-hee, Ji-hye, Mi-kyung, "
            "Sun-hee, Hannah, Grace, Esther, Sarah, Christine"
        ),
        male=_words(
            "Min-jun, Ji-hoon, Sung-min, Dong-hyun, Jae-won, Hyun-woo, Seung-ho, Young-soo, Sang-woo, "
            "Joon-ho, Daniel, David, John, Paul, Samuel"
        ),
        last=_words(
            "Kim, Lee, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim, Han, Oh, Seo, Shin, Kwon, Hwang, "
            "Ahn, Song, Yoo, Hong"
        ),
        language="Korean",
        other_language_share=0.4,
    ),
    _Heritage(  # 6 Black
        female=_words(
            "Aaliyah, Jasmine, Imani, Keisha, Tamika, Latoya, Ebony, Destiny, Brianna, Kiara, "
            "Monique, Danielle, Angela, Denise, Gloria, Shirley, Dorothy, Alicia, Jada, Nia"
        ),
        male=_words(
            "Jamal, Darnell, Terrence, Marcus, DeShawn, Andre, Malik, Tyrone, Reginald, Cedric, "
            "Isaiah, Elijah, Jaylen, Xavier, Darius, Calvin, Willie, Leroy, Kenneth, Anthony"
        ),
        last=_words(
            "Johnson, Williams, Jackson, Washington, Jefferson, Robinson, Harris, Thomas, Brown, "
            "Jones, Davis, Coleman, Franklin, Bryant, Freeman, Simmons, Banks, Gaines, Mosley, "
            "Holloway"
        ),
        language="English",
        other_language_share=0.0,
    ),
    _Heritage(  # 7 Armenian
        female=_words("Anahit, Arpi, Lusine, Nareh, Tatevik, Ani, Siranush, Hasmik, Gayane, Armine"),
        male=_words("Aram, Armen, Hayk, Tigran, Vartan, Gor, Karen, Levon, Ara, Raffi"),
        last=_words(
            "Petrosyan, Sargsyan, Hovhannisyan, Grigoryan, Harutyunyan, Avetisyan, Karapetyan, "
            "Mkrtchyan, Hakobyan, Khachatryan, Manukyan, Vardanyan"
        ),
        language="Armenian",
        other_language_share=0.3,
    ),
    _Heritage(  # 8 Arab
        female=_words("Fatima, Layla, Noor, Mariam, Yasmin, Rania, Huda, Salma, Amira, Dina"),
        male=_words("Ahmed, Mohammed, Omar, Ali, Hassan, Khalid, Yousef, Samir, Karim, Tariq"),
        last=_words("Haddad, Khalil, Nasser, Saleh, Mansour, Hamdan, Farah, Aziz, Bakr, Darwish"),
        language="Arabic",
        other_language_share=0.3,
    ),
    _Heritage(  # 9 Cambodian (Long Beach)
        female=_words("Sophea, Chanthy, Sokha, Srey, Bopha, Dara, Kanha, Channary, Maly, Vanna"),
        male=_words("Sokhom, Vannak, Rithy, Samnang, Sovann, Chea, Pheap, Vuthy, Bunthoeun, Dara"),
        last=_words("Sok, Chhay, Keo, Chea, Meas, Prak, Ouk, Sam, Nhem, Pen, Heng, Touch"),
        language="Khmer",
        other_language_share=0.4,
    ),
    _Heritage(  # 10 South Asian
        female=_words("Priya, Anjali, Neha, Kavita, Sunita, Deepa, Meera, Pooja, Ritu, Shreya"),
        male=_words("Raj, Amit, Sanjay, Vikram, Arjun, Rahul, Anil, Suresh, Ravi, Nikhil"),
        last=_words("Patel, Shah, Sharma, Singh, Gupta, Reddy, Kumar, Desai, Mehta, Rao, Iyer"),
        language="Hindi",
        other_language_share=0.15,
    ),
)

# Who is enrolled in which line of business differs too: factors on a region's weights.
_HERITAGE_FACTORS_BY_LOB: tuple[tuple[str, tuple[float, ...]], ...] = (
    ("medicare_advantage", (0.8, 1.4, 1.0, 1.1, 1.1, 1.0, 1.0, 1.2, 0.8, 0.8, 0.8)),
    ("medicaid", (1.5, 0.5, 1.1, 0.7, 0.8, 0.7, 1.3, 1.0, 1.2, 1.6, 0.5)),
    ("commercial", (0.9, 1.2, 0.9, 1.2, 1.2, 1.2, 0.9, 1.0, 1.0, 0.6, 1.6)),
)

# Who the clinicians are: a different mix from the members they serve.
_PROVIDER_HERITAGE_WEIGHTS = (16.0, 34.0, 8.0, 8.0, 9.0, 7.0, 5.0, 3.0, 3.0, 1.0, 10.0)

# ------------------------------------------------------------------------------------- geography


@dataclass(frozen=True, slots=True)
class _City:
    name: str
    area_code: str
    zips: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Region:
    code: str
    name: str
    population_share: float
    cities: tuple[_City, ...]
    heritage_weights: tuple[float, ...]  # aligned with _HERITAGES


_REGIONS: tuple[_Region, ...] = (
    _Region(
        "LBSB",
        "Long Beach & South Bay",
        0.22,
        (
            _City(
                "Long Beach", "562", ("90802", "90803", "90804", "90805", "90806", "90807", "90808", "90813")
            ),
            _City("Torrance", "310", ("90501", "90503", "90504", "90505")),
            _City("Carson", "310", ("90745", "90746")),
            _City("Lakewood", "562", ("90712", "90713")),
            _City("San Pedro", "310", ("90731", "90732")),
            _City("Bellflower", "562", ("90706",)),
        ),
        (40.0, 21.0, 4.0, 10.0, 3.0, 3.0, 12.0, 0.5, 1.5, 4.0, 1.0),
    ),
    _Region(
        "NOC",
        "North Orange County",
        0.24,
        (
            _City("Anaheim", "714", ("92801", "92802", "92804", "92805", "92806", "92807")),
            _City("Fullerton", "714", ("92831", "92832", "92833", "92835")),
            _City("Garden Grove", "714", ("92840", "92841", "92843", "92844")),
            _City("Santa Ana", "714", ("92701", "92703", "92704", "92705", "92706", "92707")),
            _City("Westminster", "714", ("92683",)),
            _City("Buena Park", "714", ("90620", "90621")),
        ),
        (47.0, 19.0, 14.0, 3.0, 3.0, 6.0, 2.0, 1.0, 3.0, 0.0, 2.0),
    ),
    _Region(
        "SOC",
        "South Orange County",
        0.14,
        (
            _City("Irvine", "949", ("92602", "92604", "92606", "92612", "92614", "92618", "92620")),
            _City("Mission Viejo", "949", ("92691", "92692")),
            _City("Costa Mesa", "714", ("92626", "92627")),
            _City("Huntington Beach", "714", ("92646", "92647", "92648", "92649")),
            _City("Laguna Hills", "949", ("92653",)),
            _City("Lake Forest", "949", ("92630",)),
        ),
        (22.0, 47.0, 8.0, 4.0, 6.0, 6.0, 2.0, 1.0, 1.0, 0.0, 3.0),
    ),
    _Region(
        "SGV",
        "San Gabriel Valley",
        0.20,
        (
            _City("Pasadena", "626", ("91101", "91103", "91104", "91105", "91106", "91107")),
            _City("Alhambra", "626", ("91801", "91803")),
            _City("El Monte", "626", ("91731", "91732", "91733")),
            _City("West Covina", "626", ("91790", "91791", "91792")),
            _City("Rosemead", "626", ("91770",)),
            _City("Monterey Park", "626", ("91754", "91755")),
            _City("Arcadia", "626", ("91006", "91007")),
        ),
        (44.0, 12.0, 6.0, 3.0, 26.0, 3.0, 2.0, 3.0, 0.0, 0.0, 1.0),
    ),
    _Region(
        "IEW",
        "Inland Empire West",
        0.20,
        (
            _City("Riverside", "951", ("92501", "92503", "92504", "92505", "92506", "92507", "92508")),
            _City("Ontario", "909", ("91761", "91762", "91764")),
            _City("Pomona", "909", ("91766", "91767", "91768")),
            _City("Corona", "951", ("92879", "92880", "92881", "92882")),
            _City("Rancho Cucamonga", "909", ("91701", "91730", "91737", "91739")),
            _City("Fontana", "909", ("92335", "92336", "92337")),
        ),
        (57.0, 22.0, 2.0, 4.0, 3.0, 2.0, 8.0, 0.5, 1.0, 0.0, 0.5),
    ),
)

_COMMERCIAL_STREETS = _words(
    "Atlantic Ave, Pacific Coast Hwy, Long Beach Blvd, Harbor Blvd, Beach Blvd, Brookhurst St, Euclid "
    "St, Colorado Blvd, Garvey Ave, Valley Blvd, Magnolia Ave, Foothill Blvd, Holt Ave, Bristol St, "
    "Katella Ave, Lincoln Ave, Chapman Ave, Imperial Hwy, Main St, Garfield Ave, Huntington Dr, "
    "Mission Blvd, Central Ave, Sepulveda Blvd, Del Amo Blvd, Carson St, Bellflower Blvd, State "
    "College Blvd, Harbor Gateway, Medical Center Dr"
)
_RESIDENTIAL_STREETS = _words(
    "Elm St, Oak Ave, Maple Dr, Cedar St, Pine Ave, Walnut St, Sycamore Ln, Willow Way, Jacaranda "
    "Ave, Orange Grove Ave, Lemon St, Palm Dr, Olive Ave, Cypress St, Acacia Ave, Hillcrest Dr, "
    "Sunset Blvd, Vista Del Mar, Camino Real, Calle Serena, Rosewood Ave, Magnolia St, Poppy Ln, "
    "Sierra Vista Dr, Laurel St, Eucalyptus Ave, Bay St, Ocean View Dr, Canyon Rd, Meadow Ln, Park "
    "Ave, Washington Blvd, Lincoln St, Jefferson Ave, Madison Way, Alondra Blvd, Artesia Blvd, "
    "Rosecrans Ave, Whittier Blvd, Florence Ave"
)
_PLACES = _words(
    "Harbor, Bayview, Seaside, Palm Grove, Citrus Valley, Mission, Coastal, Sunset, Orchard, Willow "
    "Creek, Pacific, Canyon, Hillcrest, Golden Hills, Oceanview, Vista, Sierra, Arroyo, Magnolia, "
    "Jacaranda, Lakeside, Rancho, Mesa, Foothill, Parkside, Valley View, Cypress, Laguna, Sequoia, "
    "Brookside, Meadowbrook, Summit, Heritage, Crescent, Linden, Oakmont, Cedar Grove, Sycamore, "
    "Marina, Pinecrest, Olive Grove, Seabreeze, Riverbend, Starlight, Bluffside, Coral, Poppy Fields, "
    "Serrano, Del Sol, Tierra Linda"
)
_BANKS = _words(
    "Harborline Bank, Citrus Coast Credit Union, Mission Valley Community Bank, Pacific Terrace Bank, "
    "Orange Grove Savings, Golden Poppy Bank, Southland Commerce Bank, Inland Valley Bank"
)

# ----------------------------------------------------------------------------------- taxonomies


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    code: str
    specialty: str
    kind: str  # Provider.Kind value
    degrees: tuple[str, ...]
    degree_weights: tuple[float, ...]
    ages: str = ""  # PCPs: which members they take: c = children, a = adults 18-64, s = seniors 65+


_FM = _Taxonomy("207Q00000X", "Family Medicine", "pcp", ("MD", "DO"), (0.8, 0.2), "cas")
_IM = _Taxonomy("207R00000X", "Internal Medicine", "pcp", ("MD", "DO"), (0.85, 0.15), "as")
_PEDS = _Taxonomy("208000000X", "Pediatrics", "pcp", ("MD", "DO"), (0.85, 0.15), "c")
_GERI = _Taxonomy("207QG0300X", "Geriatric Medicine (Family Medicine)", "pcp", ("MD", "DO"), (0.8, 0.2), "as")
_NP_FAMILY = _Taxonomy("363LF0000X", "Nurse Practitioner, Family", "pcp", ("NP",), (1.0,), "cas")
_NP_PEDS = _Taxonomy("363LP0200X", "Nurse Practitioner, Pediatrics", "pcp", ("NP",), (1.0,), "c")
_PA = _Taxonomy("363A00000X", "Physician Assistant", "pcp", ("PA",), (1.0,), "cas")
_PHYSICIAN_PCP = frozenset({_FM.code, _IM.code, _PEDS.code, _GERI.code})

# Primary-care practice flavors: (name templates, PCP taxonomy mix).
_PCP_FLAVORS: tuple[tuple[str, tuple[str, ...], tuple[tuple[_Taxonomy, float], ...]], ...] = (
    (
        "family",
        (
            "{place} Family Medicine, Inc.",
            "{place} Family Medical Group, Inc.",
            "{surname} Family Practice, A Medical Corporation",
            "{place} Family Health Center, Inc.",
        ),
        ((_FM, 0.65), (_NP_FAMILY, 0.2), (_PA, 0.15)),
    ),
    (
        "internal",
        (
            "{place} Internal Medicine Associates, Inc.",
            "{surname} & {surname2} Internal Medicine, A Medical Corporation",
            "{place} Internists Medical Group, Inc.",
        ),
        ((_IM, 0.7), (_NP_FAMILY, 0.15), (_PA, 0.15)),
    ),
    (
        "pediatrics",
        (
            "{place} Pediatrics, Inc.",
            "{place} Pediatric Medical Group, Inc.",
            "{place} Children's Medical Group",
        ),
        ((_PEDS, 0.8), (_NP_PEDS, 0.2)),
    ),
    (
        "senior",
        ("{place} Senior Care Medical Group, Inc.", "{place} Geriatric Associates, A Medical Corporation"),
        ((_GERI, 0.5), (_IM, 0.35), (_NP_FAMILY, 0.15)),
    ),
    (
        "primary",
        ("{place} Primary Care Physicians, Inc.", "{place} Medical Associates, Inc."),
        ((_FM, 0.35), (_IM, 0.3), (_PEDS, 0.15), (_NP_FAMILY, 0.1), (_PA, 0.1)),
    ),
)
_PCP_FLAVOR_WEIGHTS = (0.45, 0.25, 0.15, 0.05, 0.10)
_MULTI_PCP_MIX = ((_FM, 0.35), (_IM, 0.35), (_PEDS, 0.1), (_NP_FAMILY, 0.1), (_PA, 0.1))
_FQHC_PCP_MIX = ((_FM, 0.45), (_PEDS, 0.2), (_NP_FAMILY, 0.25), (_PA, 0.1))


def _md(code: str, specialty: str) -> _Taxonomy:
    return _Taxonomy(code, specialty, "specialist", ("MD", "DO"), (0.85, 0.15))


# Specialties in the order specialty groups are founded: the first ones are the most common.
_SPECIALTIES: tuple[tuple[_Taxonomy, tuple[str, ...]], ...] = (
    (
        _md("207RC0000X", "Cardiovascular Disease"),
        ("{place} Cardiology Associates, Inc.", "{place} Heart & Vascular Medical Group"),
    ),
    (
        _md("207X00000X", "Orthopaedic Surgery"),
        ("{place} Orthopaedic Medical Group, Inc.", "{place} Bone & Joint Specialists, Inc."),
    ),
    (
        _md("207V00000X", "Obstetrics & Gynecology"),
        ("{place} Women's Health Medical Group, Inc.", "{place} OB/GYN Associates, Inc."),
    ),
    (
        _md("207RE0101X", "Endocrinology, Diabetes & Metabolism"),
        ("{place} Endocrine & Diabetes Center, Inc.",),
    ),
    (_md("207N00000X", "Dermatology"), ("{place} Dermatology, Inc.", "{place} Skin Care Medical Group")),
    (_md("207RG0100X", "Gastroenterology"), ("{place} Gastroenterology Associates, Inc.",)),
    (_md("207RP1001X", "Pulmonary Disease"), ("{place} Lung & Sleep Medical Group, Inc.",)),
    (_md("207W00000X", "Ophthalmology"), ("{place} Eye Physicians, Inc.",)),
    (_md("207RN0300X", "Nephrology"), ("{place} Kidney Care Medical Group, Inc.",)),
    (_md("2084N0400X", "Neurology"), ("{place} Neurology Associates, Inc.",)),
    (_md("207Y00000X", "Otolaryngology"), ("{place} Ear, Nose & Throat Medical Group, Inc.",)),
    (_md("208800000X", "Urology"), ("{place} Urology Medical Group, Inc.",)),
    (_md("207RR0500X", "Rheumatology"), ("{place} Arthritis & Rheumatology Center, Inc.",)),
    (_md("208600000X", "Surgery"), ("{place} Surgical Associates, Inc.",)),
)
_MULTI_SPECIALTY_COUNT = 8  # multispecialty groups draw specialists from the first eight

_PSYCHIATRY = _Taxonomy("2084P0800X", "Psychiatry", "behavioral", ("MD", "DO"), (0.85, 0.15))
_PMHNP = _Taxonomy(
    "363LP0808X", "Nurse Practitioner, Psychiatric/Mental Health", "behavioral", ("NP",), (1.0,)
)
_PSYCHOLOGIST = _Taxonomy("103T00000X", "Psychologist", "behavioral", ("PhD", "PsyD"), (0.6, 0.4))
_LCSW = _Taxonomy("1041C0700X", "Clinical Social Worker", "behavioral", ("LCSW",), (1.0,))
_LMFT = _Taxonomy("106H00000X", "Marriage & Family Therapist", "behavioral", ("LMFT",), (1.0,))
_BEHAVIORAL_MIX = ((_PSYCHIATRY, 0.2), (_PMHNP, 0.1), (_PSYCHOLOGIST, 0.25), (_LCSW, 0.25), (_LMFT, 0.2))
_BEHAVIORAL_NAMES = (
    "{place} Behavioral Health Associates, Inc.",
    "{place} Counseling & Wellness Center, Inc.",
    "{place} Psychiatric Medical Group, Inc.",
)

_FQHC = _Taxonomy("261QF0400X", "Federally Qualified Health Center (FQHC)", "facility", ("",), (1.0,))
_FQHC_NAMES = ("{place} Community Health Center", "{place} Community Clinic")

# Social-services organizations (one per social practice, in this order) and their individual staff.
_SOCIAL_ORGS: tuple[tuple[_Taxonomy, str], ...] = (
    (
        _Taxonomy("251V00000X", "Voluntary or Charitable Agency", "social", ("",), (1.0,)),
        "{place} Community Food Bank",
    ),
    (
        _Taxonomy("261QR0405X", "Substance Use Disorder Rehabilitation Clinic", "social", ("",), (1.0,)),
        "{place} Recovery Services",
    ),
    (
        _Taxonomy("251S00000X", "Community/Behavioral Health Agency", "social", ("",), (1.0,)),
        "{place} Family & Community Services",
    ),
    (
        _Taxonomy("251V00000X", "Voluntary or Charitable Agency", "social", ("",), (1.0,)),
        "{place} Housing Navigation Center",
    ),
)
_CASE_MANAGER = _Taxonomy("171M00000X", "Case Manager/Care Coordinator", "social", ("RN", "BSW"), (0.4, 0.6))
_CHW = _Taxonomy("172V00000X", "Community Health Worker", "social", ("CHW",), (1.0,))
_SOCIAL_STAFF_MIX = ((_CASE_MANAGER, 0.5), (_CHW, 0.5))

# ---------------------------------------------------------------------------------------- payers

MA, MEDICAID, COMMERCIAL = "medicare_advantage", "medicaid", "commercial"

_PAYERS = (
    PayerSpec("SUNMA", "Sunrise Senior Health Plan", "SUN68", MA),
    PayerSpec("GOLDMC", "Golden Poppy Community Health Plan", "GPC42", MEDICAID),
    PayerSpec("PACHMO", "Pacific Crest Health Plan", "PCH11", COMMERCIAL),
)
_PRODUCTS = (
    ProductSpec("SUNMA", "SUN-HMO", "Sunrise Advantage HMO (MAPD)", MA),
    ProductSpec("SUNMA", "SUN-DSNP", "Sunrise Dual Complete HMO D-SNP", MA),
    ProductSpec("GOLDMC", "GPC-MCAL", "Golden Poppy Medi-Cal", MEDICAID),
    ProductSpec("PACHMO", "PAC-HMO", "Pacific Crest Select HMO", COMMERCIAL),
    ProductSpec("PACHMO", "PAC-CCA", "Pacific Crest Covered California HMO", COMMERCIAL),
)
# Share of members by payer (in _PAYERS order).
_PAYER_SHARES = (0.30, 0.40, 0.30)

# Current-year PMPM rate tables in cents: (age_min, age_max, ((sex, cents), ...)). Professional capitation.
_Bands = tuple[tuple[int, int, tuple[tuple[str, int], ...]], ...]
_MA_RATES: _Bands = (
    (0, 64, (("F", 26500), ("M", 25500))),  # under-65 disabled
    (65, 69, (("F", 19500), ("M", 18500))),
    (70, 74, (("F", 23000), ("M", 22500))),
    (75, 79, (("F", 27500), ("M", 27000))),
    (80, 84, (("F", 32000), ("M", 31500))),
    (85, 120, (("F", 37000), ("M", 37500))),
)
_MEDICAID_RATES: _Bands = (
    (0, 1, (("U", 2500),)),
    (2, 12, (("U", 1250),)),
    (13, 20, (("F", 1800), ("M", 1500))),
    (21, 44, (("F", 4200), ("M", 2800))),
    (45, 64, (("F", 5800), ("M", 5500))),
    (65, 120, (("U", 6000),)),
)
_COMMERCIAL_RATES: _Bands = (
    (0, 1, (("U", 7000),)),
    (2, 17, (("U", 3200),)),
    (18, 29, (("F", 4200), ("M", 3200))),
    (30, 39, (("F", 5200), ("M", 3800))),
    (40, 49, (("F", 5500), ("M", 4800))),
    (50, 59, (("F", 6400), ("M", 6200))),
    (60, 120, (("F", 7000), ("M", 7000))),
)
# (product code, table, factor in percent of the table)
_PRODUCT_RATES: tuple[tuple[str, _Bands, int], ...] = (
    ("SUN-HMO", _MA_RATES, 100),
    ("SUN-DSNP", _MA_RATES, 112),
    ("GPC-MCAL", _MEDICAID_RATES, 100),
    ("PAC-HMO", _COMMERCIAL_RATES, 100),
    ("PAC-CCA", _COMMERCIAL_RATES, 95),
)
_PRIOR_YEAR_FACTOR_PERMILLE = 965  # last year's rates were 3.5% lower


@dataclass(frozen=True, slots=True)
class _TermTerms:
    admin_fee_percent: Decimal
    reinsurance_pmpm_cents: tuple[int, int]  # (prior year, current year)
    withhold_percent: Decimal
    proration_rule: str
    notes: str


_TERMS_BY_LOB = {
    MA: _TermTerms(Decimal("12.000"), (425, 450), Decimal("10.000"), "cutoff", "Professional capitation"),
    MEDICAID: _TermTerms(Decimal("10.000"), (30, 35), Decimal("0.000"), "daily", "Medi-Cal professional cap"),
    COMMERCIAL: _TermTerms(Decimal("12.500"), (115, 125), Decimal("5.000"), "cutoff", "Commercial HMO cap"),
}

# DOFR: (category, party for MA, Medicaid, commercial, note).
_DOFR: tuple[tuple[str, str, str, str, str], ...] = (
    ("Primary care professional services", "ipa", "ipa", "ipa", ""),
    ("Specialist professional services", "ipa", "ipa", "ipa", ""),
    ("Inpatient hospital (facility)", "hospital", "plan", "hospital", ""),
    ("Inpatient professional services", "ipa", "ipa", "ipa", ""),
    ("Outpatient surgery (facility)", "hospital", "plan", "hospital", ""),
    ("Emergency room (facility)", "plan", "plan", "hospital", ""),
    ("Emergency room (professional)", "ipa", "ipa", "ipa", ""),
    ("Outpatient laboratory", "ipa", "ipa", "ipa", "Contracted reference lab only"),
    ("Radiology and advanced imaging", "shared", "plan", "ipa", "Professional component IPA, technical plan"),
    ("Outpatient behavioral health", "ipa", "plan", "ipa", "Specialty mental health carved out to county"),
    ("Outpatient prescription drugs", "plan", "plan", "plan", "Part D / pharmacy benefit"),
    ("Durable medical equipment", "plan", "plan", "shared", ""),
    ("Home health", "plan", "plan", "plan", ""),
    ("Skilled nursing facility", "plan", "plan", "hospital", ""),
    ("Ambulance and transportation", "plan", "plan", "plan", ""),
    ("Transplants", "plan", "plan", "plan", ""),
)
_LOB_COLUMN = {MA: 1, MEDICAID: 2, COMMERCIAL: 3}

# Eligibility patterns by line of business: cumulative weights over _PATTERNS.
_PATTERNS = ("continuous", "late", "early", "gap", "short")
_PATTERN_WEIGHTS = {
    MA: (0.84, 0.06, 0.05, 0.03, 0.02),
    MEDICAID: (0.70, 0.10, 0.10, 0.07, 0.03),
    COMMERCIAL: (0.78, 0.09, 0.08, 0.03, 0.02),
}

# Enrollment history: members of the "continuous", "early" and "gap" patterns were covered before the window,
# since an original effective date up to this many months before it (the payer's enrollment history, which
# the full 834 carries as each coverage line's DTP*348); "late" and "short" members are new in the window.
# By line of business: (share starting on the window's first day, longest history in months, share of the
# earlier starts on a January 1st: annual enrollment for Medicare Advantage and employer groups).
# Few start exactly on the window's first day: more would show as a step in member-months there (the members
# who left before the window are not generated, so the months before it already count only those who stayed).
_HISTORY = {
    MA: (0.02, 72, 0.5),
    MEDICAID: (0.03, 60, 0.0),
    COMMERCIAL: (0.02, 72, 0.5),
}

# ------------------------------------------------------------------------------------ helpers


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


def _weighted(rng: random.Random, items: Sequence[T], weights: Sequence[float]) -> T:
    return rng.choices(items, weights=weights, k=1)[0]


def _mix(rng: random.Random, mix: Sequence[tuple[_Taxonomy, float]]) -> _Taxonomy:
    return _weighted(rng, [t for t, _ in mix], [w for _, w in mix])


def _phone(rng: random.Random, area_code: str) -> str:
    return f"({area_code}) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"


def routing_number(rng: random.Random) -> str:
    """A nine-digit ABA routing number in the San Francisco Fed district (12) with a valid check digit (also
    the demo's claims-only organizations' banks)."""
    first8 = "12" + "".join(str(rng.randint(0, 9)) for _ in range(6))
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(d) * w for d, w in zip(first8, weights, strict=True))
    return first8 + str((10 - total % 10) % 10)


def _birth_date(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date that makes someone exactly `age` on `on`."""
    anniversary = dt.date(on.year - age, on.month, min(on.day, 28))
    return anniversary - dt.timedelta(days=rng.randrange(365))


def _age_from_bands(rng: random.Random, bands: Sequence[tuple[int, int, float]]) -> int:
    low, high, _ = _weighted(rng, bands, [w for _, _, w in bands])
    return rng.randint(low, high)


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # February 29 in a common year
        return day.replace(year=day.year + years, day=28)


def _code_from_name(name: str) -> str:
    skip = {"inc.", "a", "medical", "corporation", "&", "of", "the", "group,", "group", "inc"}
    words = [w.strip(",.'") for w in name.split() if w.lower() not in skip]
    words = [w for w in words if w]
    head = "".join(ch for ch in words[0] if ch.isalnum()).upper()[:4]
    tail = "".join(w[0].upper() for w in words[1:] if w[0].isalnum())
    return (head + tail)[:8]


Segment = tuple[dt.date, dt.date | None, str]  # (from, to or None, product code)


# ------------------------------------------------------------------------------ the generator


@dataclass(slots=True)
class _Provider:
    npi: str
    first_name: str
    last_name: str
    degree: str
    taxonomy: _Taxonomy
    date_of_birth: dt.date | None
    personal_phone: str
    practice: int  # index of the primary practice
    location: int
    panel_limit: int | None = None
    popularity: float = 1.0
    accepting: bool = True


@dataclass(slots=True)
class _Practice:
    category: str
    flavor: str
    legal_name: str
    region: _Region
    city: _City
    pcp_mix: tuple[tuple[_Taxonomy, float], ...] = ()
    specialty: _Taxonomy | None = None
    social_org: _Taxonomy | None = None
    locations: tuple[LocationSpec, ...] = ()
    code: str = ""
    contracts: tuple[str, ...] = ()  # payer codes whose contract the practice joins


@dataclass(slots=True)
class _Candidates:
    ids: list[int]
    cum: list[float]


class _Generator:
    def __init__(self, seed: int, members: int, as_of: Month) -> None:
        if members < 0:
            raise ValueError("members must be zero or more")
        self.rng = random.Random(seed)
        self.seed = seed
        self.n_members = members
        self.as_of = as_of
        self.first_month = as_of - (ELIGIBILITY_MONTHS - 1)
        self.window_start = self.first_month.first_day
        self.window_end = as_of.last_day
        scale = math.sqrt(members / DEFAULT_MEMBERS) if members > DEFAULT_MEMBERS else 1.0
        self.n_practices = round(DEFAULT_PRACTICES * scale)
        self.n_providers = round(DEFAULT_PROVIDERS * scale)
        self.contract_start = dt.date(self.window_start.year - 2, 1, 1)
        # Its own stream, so the enrollment history changes nothing else the seed gives.
        self.history_rng = random.Random(f"openipa-demo-history-{seed}")
        self.used_names: set[str] = set()
        self.used_npis: set[str] = set()
        self.used_tins: set[str] = set()
        self.used_mbis: set[str] = set()
        self.region_cum = _cumulative([r.population_share for r in _REGIONS])
        self.heritage_cum = {
            (r.code, lob): _cumulative([w * f for w, f in zip(r.heritage_weights, factors, strict=True)])
            for r in _REGIONS
            for lob, factors in _HERITAGE_FACTORS_BY_LOB
        }
        self.provider_heritage_cum = _cumulative(_PROVIDER_HERITAGE_WEIGHTS)

    # -------------------------------------------------------------------------------- network

    def _place_name(self, templates: Sequence[str], city: _City) -> str:
        rng = self.rng
        for attempt in range(200):
            template = rng.choice(templates)
            place = rng.choice(_PLACES) if attempt < 100 or rng.random() < 0.5 else city.name
            surname = rng.choice(_HERITAGES[1].last + _HERITAGES[0].last + _HERITAGES[4].last)
            surname2 = rng.choice(_HERITAGES[1].last + _HERITAGES[2].last + _HERITAGES[5].last)
            if surname2 == surname:
                continue
            name = template.format(place=place, surname=surname, surname2=surname2)
            if attempt >= 150:
                name = name.replace(place, f"{place} {city.name}", 1)
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("ran out of practice names")  # pragma: no cover - 50 places x many templates

    def _practice_categories(self) -> list[str]:
        n = self.n_practices
        fqhc = max(1, round(n * 0.025))
        social = max(2, round(n * 0.075))
        behavioral = max(2, round(n * 0.075))
        specialty = max(2, round(n * 0.2))
        multi = max(1, round(n * 0.075))
        primary = max(1, n - fqhc - social - behavioral - specialty - multi)
        categories = (
            ["primary_care"] * primary
            + ["multispecialty"] * multi
            + ["fqhc"] * fqhc
            + ["specialty"] * specialty
            + ["behavioral"] * behavioral
            + ["social"] * social
        )
        return categories

    def _make_practices(self) -> list[_Practice]:
        rng = self.rng
        practices: list[_Practice] = []
        specialty_index = 0
        social_index = 0
        for category in self._practice_categories():
            region = _weighted(rng, _REGIONS, [r.population_share for r in _REGIONS])
            city = rng.choice(region.cities)
            if category == "primary_care":
                flavor_name, templates, mix = _weighted(rng, _PCP_FLAVORS, _PCP_FLAVOR_WEIGHTS)
                p = _Practice(
                    category, flavor_name, self._place_name(templates, city), region, city, pcp_mix=mix
                )
            elif category == "multispecialty":
                templates = ("{place} Multispecialty Medical Group, Inc.", "{place} Medical Group, Inc.")
                p = _Practice(category, "multi", self._place_name(templates, city), region, city)
                p.pcp_mix = _MULTI_PCP_MIX
            elif category == "fqhc":
                p = _Practice(category, "fqhc", self._place_name(_FQHC_NAMES, city), region, city)
                p.pcp_mix = _FQHC_PCP_MIX
            elif category == "specialty":
                taxonomy, templates = _SPECIALTIES[specialty_index % len(_SPECIALTIES)]
                specialty_index += 1
                p = _Practice(category, "specialty", self._place_name(templates, city), region, city)
                p.specialty = taxonomy
            elif category == "behavioral":
                p = _Practice(category, "behavioral", self._place_name(_BEHAVIORAL_NAMES, city), region, city)
            else:
                org, template = _SOCIAL_ORGS[social_index % len(_SOCIAL_ORGS)]
                social_index += 1
                p = _Practice(category, "social", self._place_name((template,), city), region, city)
                p.social_org = org
            practices.append(p)
        # Codes: short, derived from the name, unique.
        used_codes: set[str] = set()
        for p in practices:
            base = _code_from_name(p.legal_name)
            code, n = base, 2
            while code in used_codes:
                code, n = f"{base[:6]}{n}", n + 1
            used_codes.add(code)
            p.code = code
        return practices

    def _make_locations(self, practice: _Practice) -> tuple[LocationSpec, ...]:
        rng = self.rng
        count = {
            "primary_care": _weighted(rng, (1, 2, 3), (0.6, 0.3, 0.1)),
            "multispecialty": rng.randint(2, 3),
            "fqhc": rng.randint(2, 3),
            "specialty": rng.randint(1, 2),
            "behavioral": rng.randint(1, 2),
            "social": 1,
        }[practice.category]
        locations: list[LocationSpec] = []
        names: set[str] = set()
        for i in range(count):
            city = practice.city if i == 0 else rng.choice(practice.region.cities)
            street = rng.choice(_COMMERCIAL_STREETS)
            name = "Main office" if i == 0 else f"{city.name} office"
            if name in names:
                name = f"{city.name} - {street}"
            names.add(name)
            locations.append(
                LocationSpec(
                    practice_code=practice.code,
                    name=name,
                    address_line1=f"{rng.randint(100, 9999)} {street}",
                    city=city.name,
                    state=STATE,
                    zip_code=rng.choice(city.zips),
                    phone=_phone(rng, city.area_code),
                    is_primary=i == 0,
                )
            )
        return tuple(locations)

    def _distribute(self, total: int, minimums: Sequence[int], weights: Sequence[float]) -> list[int]:
        """Split `total` into parts of at least `minimums`, the rest handed out one by one by weight."""
        counts = list(minimums)
        cum = _cumulative(weights)
        for _ in range(max(0, total - sum(counts))):
            counts[bisect_right(cum, self.rng.random() * cum[-1])] += 1
        return counts

    def _provider_counts(self, practices: list[_Practice]) -> list[list[tuple[str, int]]]:
        """Per practice: [(kind, how many)] for pcp, specialist, behavioral, social staff."""
        n = self.n_providers
        n_fqhc = sum(1 for p in practices if p.category == "fqhc")
        n_social_orgs = sum(1 for p in practices if p.category == "social")
        pcp_total = round(n * 0.60)
        spec_total = round(n * 0.25)
        beh_total = round(n * 0.10)
        social_total = max(0, n - pcp_total - spec_total - beh_total - n_fqhc - n_social_orgs)
        rng = self.rng
        out: list[list[tuple[str, int]]] = [[] for _ in practices]

        def spread(kind: str, total: int, rule: dict[str, tuple[int, float]]) -> None:
            idx = [i for i, p in enumerate(practices) if p.category in rule]
            if not idx:
                return
            mins = [rule[practices[i].category][0] for i in idx]
            weights = [rule[practices[i].category][1] * rng.uniform(0.5, 2.0) for i in idx]
            for i, c in zip(idx, self._distribute(total, mins, weights), strict=True):
                out[i].append((kind, c))

        spread("pcp", pcp_total, {"primary_care": (1, 1.0), "multispecialty": (3, 1.5), "fqhc": (3, 1.5)})
        spread("specialist", spec_total, {"specialty": (2, 1.0), "multispecialty": (2, 1.0)})
        spread("behavioral", beh_total, {"behavioral": (3, 1.0), "fqhc": (1, 0.0)})
        spread("social", social_total, {"social": (0, 1.0)})
        return out

    def _person_name(self, heritage_cum: list[float], sex: str) -> tuple[str, str]:
        rng = self.rng
        heritage = _HERITAGES[bisect_right(heritage_cum, rng.random() * heritage_cum[-1])]
        first = rng.choice(heritage.female if sex == "F" else heritage.male)
        return first, rng.choice(heritage.last)

    def _new_npi(self) -> str:
        while True:
            npi = generate_npi(self.rng)
            if npi not in self.used_npis:
                self.used_npis.add(npi)
                return npi

    def _new_tin(self) -> str:
        while True:
            tin = generate_tin(self.rng)
            if tin not in self.used_tins:
                self.used_tins.add(tin)
                return tin

    def _individual(self, taxonomy: _Taxonomy, practice_index: int, practice: _Practice) -> _Provider:
        rng = self.rng
        sex = "F" if rng.random() < 0.52 else "M"
        first, last = self._person_name(self.provider_heritage_cum, sex)
        degree = _weighted(rng, taxonomy.degrees, taxonomy.degree_weights)
        age = rng.randint(31, 68)
        location = (
            0
            if len(practice.locations) == 1 or rng.random() < 0.6
            else rng.randrange(len(practice.locations))
        )
        provider = _Provider(
            npi=self._new_npi(),
            first_name=first,
            last_name=last,
            degree=degree,
            taxonomy=taxonomy,
            date_of_birth=_birth_date(rng, age, self.as_of.first_day),
            personal_phone=_phone(rng, practice.city.area_code),
            practice=practice_index,
            location=location,
        )
        if taxonomy.kind == "pcp":
            # Capitated members this PCP takes from the IPA's plans (the rest of the practice is FFS).
            if taxonomy.degrees == ("NP",) or taxonomy.degrees == ("PA",):
                provider.panel_limit = rng.randrange(150, 401, 25)
            elif taxonomy is _GERI:
                provider.panel_limit = rng.randrange(250, 551, 25)
            else:
                provider.panel_limit = rng.randrange(300, 751, 25)
            provider.popularity = rng.uniform(0.3, 1.7)
        else:
            provider.accepting = rng.random() >= 0.08
        return provider

    def _organization(self, taxonomy: _Taxonomy, practice_index: int, practice: _Practice) -> _Provider:
        name = practice.legal_name.replace(", Inc.", "")
        return _Provider(
            npi=self._new_npi(),
            first_name="",
            last_name=name,
            degree="",
            taxonomy=taxonomy,
            date_of_birth=None,
            personal_phone="",
            practice=practice_index,
            location=0,
        )

    def _make_providers(self, practices: list[_Practice]) -> list[_Provider]:
        counts = self._provider_counts(practices)
        providers: list[_Provider] = []
        for pi, (practice, kinds) in enumerate(zip(practices, counts, strict=True)):
            if practice.category == "fqhc":
                providers.append(self._organization(_FQHC, pi, practice))
            if practice.social_org is not None:
                providers.append(self._organization(practice.social_org, pi, practice))
            for kind, count in kinds:
                for k in range(count):
                    if kind == "pcp":
                        taxonomy = _mix(self.rng, practice.pcp_mix)
                        if k == 0 and taxonomy.code not in _PHYSICIAN_PCP:
                            # Every practice has at least one physician as PCP.
                            taxonomy = practice.pcp_mix[0][0]
                    elif kind == "specialist":
                        if practice.specialty is not None:
                            taxonomy = practice.specialty
                        else:
                            taxonomy = self.rng.choice(_SPECIALTIES[:_MULTI_SPECIALTY_COUNT])[0]
                    elif kind == "behavioral":
                        if practice.category == "fqhc":
                            taxonomy = _LCSW
                        elif k == 0:
                            taxonomy = _PSYCHIATRY if self.rng.random() < 0.6 else _PSYCHOLOGIST
                        else:
                            taxonomy = _mix(self.rng, _BEHAVIORAL_MIX)
                    else:
                        taxonomy = _mix(self.rng, _SOCIAL_STAFF_MIX)
                    providers.append(self._individual(taxonomy, pi, practice))
        return providers

    def _join_contracts(self, practice: _Practice) -> tuple[str, ...]:
        rng = self.rng
        if practice.category == "primary_care":
            joined = [
                "SUNMA" if practice.flavor != "pediatrics" else "",
                "GOLDMC" if rng.random() >= 0.15 else "",
                "PACHMO" if rng.random() >= 0.10 or practice.flavor == "pediatrics" else "",
            ]
            if practice.flavor == "senior":
                joined[1] = joined[1] if rng.random() < 0.5 else ""
        elif practice.category == "specialty":
            joined = ["SUNMA", "GOLDMC" if rng.random() < 0.6 else "", "PACHMO"]
        elif practice.category == "social":
            joined = ["SUNMA" if rng.random() < 0.5 else "", "GOLDMC", ""]
        elif practice.category == "fqhc":
            joined = ["SUNMA", "GOLDMC", ""]
        else:  # multispecialty, behavioral
            joined = ["SUNMA", "GOLDMC", "PACHMO"]
        result = tuple(code for code in joined if code)
        return result or ("GOLDMC",)

    # ------------------------------------------------------------------------------ contracts

    def _contracts(self) -> tuple[tuple[ContractSpec, ...], tuple[TermSpec, ...]]:
        contracts: list[ContractSpec] = []
        terms: list[TermSpec] = []
        current_start = dt.date(self.as_of.year, 1, 1)
        prior_end = current_start - dt.timedelta(days=1)
        for payer in _PAYERS:
            number = f"{payer.code}-{self.contract_start.year}-01"
            label = {MA: "Medicare Advantage", MEDICAID: "Medi-Cal", COMMERCIAL: "Commercial HMO"}
            products = tuple(p.code for p in _PRODUCTS if p.payer_code == payer.code)
            contracts.append(
                ContractSpec(
                    payer_code=payer.code,
                    number=number,
                    name=f"{payer.name} {label[payer.line_of_business]} professional capitation",
                    legal_basis="capitated_risk",
                    status="active",
                    valid_from=self.contract_start,
                    valid_to=None,
                    product_codes=products,
                )
            )
            setup = _TERMS_BY_LOB[payer.line_of_business]
            column = _LOB_COLUMN[payer.line_of_business]
            dofr = tuple(
                DofrSpec(service_category=row[0], responsible_party=str(row[column]), notes=row[4])
                for row in _DOFR
            )
            for version, (start, end) in enumerate(((self.contract_start, prior_end), (current_start, None))):
                cells: list[RateCellSpec] = []
                for product_code, table, factor in _PRODUCT_RATES:
                    if product_code not in products:
                        continue
                    for age_min, age_max, by_sex in table:
                        for sex, cents in by_sex:
                            amount = (cents * factor + 50) // 100
                            if version == 0:
                                amount = (amount * _PRIOR_YEAR_FACTOR_PERMILLE + 500) // 1000
                            cells.append(RateCellSpec(product_code, age_min, age_max, sex, amount))
                terms.append(
                    TermSpec(
                        contract_number=number,
                        valid_from=start,
                        valid_to=end,
                        capitation_basis="pmpm_table",
                        admin_fee_percent=setup.admin_fee_percent,
                        admin_fee_pmpm_cents=0,
                        reinsurance_pmpm_cents=setup.reinsurance_pmpm_cents[version],
                        withhold_percent=setup.withhold_percent,
                        retro_window_months=6,
                        proration_rule=setup.proration_rule,
                        cutoff_day=15,
                        age_reference_month=1,
                        notes=f"{setup.notes}, {'prior' if version == 0 else 'current'} rate year",
                        rate_cells=tuple(cells),
                        dofr=dofr,
                    )
                )
        return tuple(contracts), tuple(terms)

    # -------------------------------------------------------------------------------- members

    def _ma_people(self) -> list[tuple[int, str, bool]]:
        """One MA household: [(age, sex, disabled)]; a few couples are both enrolled."""
        rng = self.rng
        disabled = rng.random() < 0.10
        if disabled:
            age = _age_from_bands(rng, ((25, 44, 0.25), (45, 54, 0.30), (55, 64, 0.45)))
            return [(age, "F" if rng.random() < 0.47 else "M", True)]
        bands = (
            (65, 69, 0.30),
            (70, 74, 0.27),
            (75, 79, 0.19),
            (80, 84, 0.12),
            (85, 89, 0.08),
            (90, 99, 0.04),
        )
        age = _age_from_bands(rng, bands)
        sex = "F" if rng.random() < 0.56 else "M"
        people = [(age, sex, False)]
        if rng.random() < 0.15:
            people.append((max(65, min(99, age + rng.randint(-6, 6))), "M" if sex == "F" else "F", False))
        return people

    def _medicaid_people(self) -> list[tuple[int, str, bool]]:
        rng = self.rng
        r = rng.random()
        if r < 0.55:  # one adult (some aged or disabled, many dual-eligible)
            if rng.random() < 0.22:
                age = rng.randint(65, 92)
            else:
                age = _age_from_bands(rng, ((19, 26, 0.22), (27, 44, 0.38), (45, 64, 0.40)))
            return [(age, "F" if rng.random() < 0.55 else "M", False)]
        if r < 0.93:  # a parent (mostly mothers) with children, sometimes both parents
            parent_age = _age_from_bands(rng, ((19, 29, 0.35), (30, 39, 0.40), (40, 50, 0.25)))
            mother = rng.random() < 0.82
            people = [(parent_age, "F" if mother else "M", False)]
            if rng.random() < 0.2:
                people.append((max(19, parent_age + rng.randint(-4, 6)), "M" if mother else "F", False))
            for _ in range(_weighted(rng, (1, 2, 3, 4), (0.35, 0.35, 0.2, 0.1))):
                age = rng.randint(0, max(0, min(18, parent_age - 17)))
                people.append((age, "F" if rng.random() < 0.49 else "M", False))
            return people
        # children enrolled on their own
        return [
            (rng.randint(0, 20), "F" if rng.random() < 0.49 else "M", False)
            for _ in range(_weighted(rng, (1, 2, 3), (0.5, 0.35, 0.15)))
        ]

    def _commercial_people(self) -> list[tuple[int, str, bool]]:
        rng = self.rng
        r = rng.random()
        if r < 0.34:
            age = _age_from_bands(rng, ((22, 29, 0.30), (30, 44, 0.35), (45, 64, 0.35)))
            return [(age, "F" if rng.random() < 0.5 else "M", False)]
        if r < 0.55:
            age = rng.randint(25, 64)
            sex = "F" if rng.random() < 0.5 else "M"
            other = "M" if sex == "F" else "F"
            return [(age, sex, False), (max(22, min(64, age + rng.randint(-5, 5))), other, False)]
        age = rng.randint(25, 58)
        sex = "F" if rng.random() < 0.5 else "M"
        people = [(age, sex, False)]
        if rng.random() < 0.8:
            people.append((max(22, min(64, age + rng.randint(-5, 5))), "M" if sex == "F" else "F", False))
        for _ in range(_weighted(rng, (1, 2, 3, 4), (0.35, 0.40, 0.18, 0.07))):
            people.append(
                (rng.randint(0, max(0, min(25, age - 18))), "F" if rng.random() < 0.49 else "M", False)
            )
        return people

    def _original_effective(self, lob: str) -> dt.date:
        """The first day of coverage of a member covered when the window starts: the window's first day, or
        up to six years before it (from :data:`_HISTORY`)."""
        rng = self.history_rng
        at_start, longest, january = _HISTORY[lob]
        if rng.random() < at_start:
            return self.window_start
        start = self.first_month - rng.randint(1, longest)
        if rng.random() < january:
            start = Month(start.year, 1)
        return start.first_day

    def _coverage(self, lob: str, product: str) -> list[Segment]:
        """Eligibility segments for one member (or household): events inside the 12-month window; a member
        covered when it starts may have been covered for years before (:meth:`_original_effective`)."""
        rng = self.rng
        pattern = _weighted(rng, _PATTERNS, _PATTERN_WEIGHTS[lob])
        first = self.first_month
        ws = self.window_start
        if pattern in ("continuous", "early", "gap"):
            ws = self._original_effective(lob)
        if pattern == "continuous":
            if lob != MEDICAID and rng.random() < 0.02:  # switched product mid-year
                alternatives = [p.code for p in _PRODUCTS if p.line_of_business == lob and p.code != product]
                k = rng.randint(2, 9)
                return [
                    (ws, (first + k).last_day, product),
                    ((first + k + 1).first_day, None, alternatives[0]),
                ]
            return [(ws, None, product)]
        if pattern == "late":
            m = first + rng.randint(1, 11)
            day = 1 if rng.random() < 0.8 else rng.randint(2, 28)
            return [(dt.date(m.year, m.month, day), None, product)]
        if pattern == "early":
            m = first + rng.randint(0, 10)
            end = m.last_day if rng.random() < 0.85 else dt.date(m.year, m.month, rng.randint(1, 28))
            return [(ws, end, product)]
        if pattern == "gap":
            k = rng.randint(1, 7)
            gap = rng.randint(1, 3)
            return [(ws, (first + k).last_day, product), ((first + k + gap + 1).first_day, None, product)]
        joins = rng.randint(1, 6)
        leaves = rng.randint(joins + 1, 10)
        return [((first + joins).first_day, (first + leaves).last_day, product)]

    @staticmethod
    def _clamp(segments: list[Segment], earliest: dt.date) -> list[Segment]:
        """Drop what lies before `earliest` (a birth, a 65th birthday month)."""
        if segments[0][0] >= earliest:
            return segments
        out = [(max(s, earliest), e, p) for s, e, p in segments if e is None or e >= earliest]
        return out or [(earliest, None, segments[-1][2])]

    def _die(self, segments: list[Segment], death: dt.date) -> list[Segment]:
        """Coverage ends with the month of death."""
        last = Month.of(death).last_day
        out: list[Segment] = []
        for s, e, p in segments:
            if s > death:
                break
            out.append((s, last if e is None or e > last else e, p))
        return out

    def _member_ids(self) -> dict[str, int]:
        rng = self.rng
        return {
            "SUNMA": rng.randint(100_000_000, 199_999_999),
            "GOLDMC": rng.randint(1_000_000, 1_999_999),
            "PACHMO": rng.randint(10_000_000, 19_999_999),
        }

    def _make_members(
        self,
    ) -> tuple[list[MemberSpec], list[EligibilitySpec], list[list[Segment]]]:
        rng = self.rng
        counters = self._member_ids()
        members: list[MemberSpec] = []
        coverage: list[list[Segment]] = []
        eligibility: list[EligibilitySpec] = []
        n = self.n_members
        targets = [round(n * share) for share in _PAYER_SHARES]
        targets[-1] = n - sum(targets[:-1])
        # Ages are taken on the first day of the as-of month, so nobody is born (or dies) after it starts.
        ref = self.as_of.first_day
        last_death = (self.as_of - 1).last_day
        for payer, target in zip(_PAYERS, targets, strict=True):
            lob = payer.line_of_business
            made = 0
            while made < target:
                region = _REGIONS[bisect_right(self.region_cum, rng.random() * self.region_cum[-1])]
                hcum = self.heritage_cum[(region.code, lob)]
                heritage = _HERITAGES[bisect_right(hcum, rng.random() * hcum[-1])]
                city = rng.choice(region.cities)
                street = f"{rng.randint(100, 19999)} {rng.choice(_RESIDENTIAL_STREETS)}"
                if rng.random() < 0.25:
                    street += f" Apt {rng.randint(1, 40)}{rng.choice('ABCD')}"
                zip_code = rng.choice(city.zips)
                phone = _phone(rng, city.area_code) if rng.random() < 0.92 else ""
                home_language = (
                    heritage.language if rng.random() < heritage.other_language_share else "English"
                )
                last_name = rng.choice(heritage.last)
                if lob == MA:
                    people = self._ma_people()
                    product = "SUN-DSNP" if rng.random() < (0.18 if not people[0][2] else 0.40) else "SUN-HMO"
                elif lob == MEDICAID:
                    people = self._medicaid_people()
                    product = "GPC-MCAL"
                else:
                    people = self._commercial_people()
                    product = "PAC-CCA" if rng.random() < 0.25 else "PAC-HMO"
                household_coverage = self._coverage(lob, product)
                for position, (age, sex, disabled) in enumerate(people):
                    if made >= target:
                        break
                    birth = _birth_date(rng, age, ref)
                    first_name = rng.choice(heritage.female if sex == "F" else heritage.male)
                    number = counters[payer.code]
                    if lob == COMMERCIAL:  # one subscriber number per family, a two-digit suffix each
                        counters[payer.code] += rng.randint(1, 37) if position == len(people) - 1 else 0
                    else:
                        counters[payer.code] += rng.randint(1, 37)
                    if lob == MA:
                        member_id = f"SUN{number:09d}"
                        segments = self._coverage(lob, product) if position else household_coverage
                        if not disabled:
                            segments = self._clamp(segments, Month.of(_add_years(birth, 65)).first_day)
                        mbi = self._new_mbi()
                    elif lob == MEDICAID:
                        # Medi-Cal CIN layout: eight digits and a letter.
                        member_id = f"9{number:07d}{rng.choice('ABCDEFGHJK')}"
                        segments = household_coverage
                        mbi = self._new_mbi() if age >= 65 and rng.random() < 0.8 else ""
                    else:
                        member_id = f"PCH{number:08d}{position:02d}"
                        segments = household_coverage
                        mbi = ""
                    if birth > segments[0][0]:
                        segments = self._clamp(segments, birth)
                    death: dt.date | None = None
                    death_rate = (
                        (0.06 if age >= 80 else 0.03) if lob == MA else (0.03 if age >= 65 else 0.002)
                    )
                    if rng.random() < death_rate:
                        since = max(segments[0][0], self.window_start)  # deaths fall in the window
                        span_days = (last_death - since).days
                        if span_days > 20:
                            death = since + dt.timedelta(days=rng.randint(15, span_days))
                            segments = self._die(segments, death)
                    language = home_language
                    if age < 18 and language != "English" and rng.random() < 0.5:
                        language = "English"
                    index = len(members)
                    members.append(
                        MemberSpec(
                            payer_code=payer.code,
                            payer_member_id=member_id,
                            mbi=mbi,
                            first_name=first_name,
                            last_name=last_name,
                            date_of_birth=birth,
                            date_of_death=death,
                            sex=sex,
                            address_line1=street,
                            city=city.name,
                            state=STATE,
                            zip_code=zip_code,
                            phone=phone,
                            language=language,
                            region_code=region.code,
                        )
                    )
                    coverage.append(segments)
                    for s, e, p in segments:
                        eligibility.append(EligibilitySpec(index, p, s, e))
                    made += 1
        return members, eligibility, coverage

    def _new_mbi(self) -> str:
        while True:
            mbi = generate_mbi(self.rng)
            if mbi not in self.used_mbis:
                self.used_mbis.add(mbi)
                return mbi

    # ------------------------------------------------------------------------- PCP assignment

    def _assign_pcps(
        self,
        members: list[MemberSpec],
        coverage: list[list[Segment]],
        providers: list[_Provider],
        practices: list[_Practice],
        pcp_since: dict[str, dt.date],
    ) -> list[PcpAssignmentSpec]:
        """PCP spans: one per block of contiguous coverage, a few changing PCP inside the window. A block
        that began before the window has its PCP from the later of its start and the day the PCP could
        first take the IPA's members (``pcp_since``: their affiliation, the payer contracts' start)."""
        rng = self.rng
        pcps = [i for i, p in enumerate(providers) if p.taxonomy.kind == "pcp"]
        # Make sure the panels can hold everyone (with room for PCP changes): grow limits if not.
        capacity = sum(providers[i].panel_limit or 0 for i in pcps)
        needed = int(len(members) * 1.2)
        if pcps and capacity < needed:
            factor = needed / capacity
            for i in pcps:
                limit = providers[i].panel_limit or 0
                providers[i].panel_limit = int(math.ceil(limit * factor / 25.0) * 25)
        limits = [p.panel_limit or 0 for p in providers]
        used = [0] * len(providers)

        groups = "cas"
        lists: dict[tuple[str, str, str], _Candidates] = {}
        for payer in _PAYERS:
            for group in groups:
                for region in (*(r.code for r in _REGIONS), "*"):
                    ids = [
                        i
                        for i in pcps
                        if group in providers[i].taxonomy.ages
                        and payer.code in practices[providers[i].practice].contracts
                        and (region == "*" or practices[providers[i].practice].region.code == region)
                    ]
                    weights = [providers[i].popularity * limits[i] for i in ids]
                    lists[(payer.code, group, region)] = _Candidates(ids, _cumulative(weights))
            any_ids = [i for i in pcps if payer.code in practices[providers[i].practice].contracts]
            lists[(payer.code, "*", "*")] = _Candidates(any_ids, _cumulative([1.0] * len(any_ids)))

        def pick(cands: _Candidates, exclude: int) -> int | None:
            if not cands.ids:
                return None
            for _ in range(10):
                i = cands.ids[bisect_right(cands.cum, rng.random() * cands.cum[-1])]
                if i != exclude and used[i] < limits[i]:
                    return i
            start = rng.randrange(len(cands.ids))
            for j in range(len(cands.ids)):
                i = cands.ids[(start + j) % len(cands.ids)]
                if i != exclude and used[i] < limits[i]:
                    return i
            return None

        def choose(member: MemberSpec, exclude: int = -1) -> int | None:
            age = age_on(member.date_of_birth, self.window_end)
            group = "c" if age < 18 else ("s" if age >= 65 else "a")
            region = member.region_code if rng.random() < 0.85 else "*"
            for key in (
                (member.payer_code, group, region),
                (member.payer_code, group, "*"),
                (member.payer_code, "*", "*"),
            ):
                chosen = pick(lists[key], exclude)
                if chosen is not None:
                    return chosen
            return None

        assignments: list[PcpAssignmentSpec] = []
        for index, (member, segments) in enumerate(zip(members, coverage, strict=True)):
            # Contiguous eligibility (a product switch without a gap) is one block of PCP assignment.
            blocks: list[tuple[dt.date, dt.date | None]] = []
            for s, e, _ in segments:
                if blocks and blocks[-1][1] is not None and blocks[-1][1] + dt.timedelta(days=1) == s:
                    blocks[-1] = (blocks[-1][0], e)
                else:
                    blocks.append((s, e))
            current: int | None = None
            for b_start, b_end in blocks:
                start = b_start
                if b_start > self.window_start and rng.random() < 0.03:
                    # Late retro add: the plan had not assigned a PCP in the first month.
                    start = Month.of(b_start).next().first_day
                    if b_end is not None and start > b_end:
                        continue
                if current is None:
                    current = choose(member)
                    if current is None:
                        break
                    used[current] += 1
                if start < self.window_start:  # enrollment history: the PCP since they could be
                    start = min(max(start, pcp_since[providers[current].npi]), self.window_start)
                end_month = Month.of(b_end) if b_end is not None else self.as_of
                first = max(Month.of(start), self.first_month)  # PCP changes fall in the window
                change: Month | None = None
                if end_month.index - first.index >= 2 and rng.random() < 0.07:
                    change = first + rng.randint(1, end_month.index - first.index)
                if change is not None:
                    new = choose(member, exclude=current)
                    if new is not None:
                        p = providers[current]
                        assignments.append(
                            PcpAssignmentSpec(
                                index,
                                p.npi,
                                practices[p.practice].code,
                                start,
                                change.first_day - dt.timedelta(days=1),
                            )
                        )
                        used[new] += 1
                        current, start = new, change.first_day
                p = providers[current]
                assignments.append(PcpAssignmentSpec(index, p.npi, practices[p.practice].code, start, b_end))
        for i in pcps:
            # A panel nearly full is closed to new patients.
            providers[i].accepting = used[i] < 0.9 * limits[i]
        return assignments

    # ---------------------------------------------------------------------------------- all

    def generate(self) -> DemoData:
        rng = self.rng
        practices = self._make_practices()
        for p in practices:
            p.locations = self._make_locations(p)
            p.contracts = self._join_contracts(p)
        providers = self._make_providers(practices)
        contracts, terms = self._contracts()
        contract_by_payer = {c.payer_code: c for c in contracts}

        practice_specs: list[PracticeSpec] = []
        agreements: list[AgreementSpec] = []
        participations: list[ParticipationSpec] = []
        joined_on: list[dt.date] = []
        for p in practices:
            practice_specs.append(
                PracticeSpec(
                    code=p.code,
                    legal_name=p.legal_name,
                    dba_name=p.legal_name.split(",")[0] if rng.random() < 0.4 and "," in p.legal_name else "",
                    category=p.category,
                    tin=self._new_tin(),
                    address_line1=p.locations[0].address_line1,
                    address_line2=f"Suite {rng.randint(1, 4)}{rng.randint(0, 5)}{rng.randint(0, 9)}"
                    if rng.random() < 0.7
                    else "",
                    city=p.city.name,
                    state=STATE,
                    zip_code=p.locations[0].zip_code,
                    phone=p.locations[0].phone,
                    region_code=p.region.code,
                    bank_name=rng.choice(_BANKS),
                    bank_routing_number=routing_number(rng),
                    bank_account_number="".join(str(rng.randint(0, 9)) for _ in range(rng.randint(10, 12))),
                )
            )
            start_month = self.first_month - rng.randint(12, 180)
            joined = start_month.first_day
            joined_on.append(joined)
            if p.category in ("primary_care", "multispecialty"):
                pmpm_fee = rng.random() < 0.15
                percent = (
                    Decimal("0.000")
                    if pmpm_fee
                    else Decimal(rng.choice(("10.000", "12.000", "12.500", "15.000")))
                )
                pmpm = rng.choice((150, 200, 250, 300)) if pmpm_fee else 0
            elif p.category == "specialty":
                percent, pmpm = Decimal(rng.choice(("8.000", "10.000"))), 0
            elif p.category == "behavioral":
                percent, pmpm = Decimal("8.000"), 0
            elif p.category == "fqhc":
                percent, pmpm = Decimal("7.000"), 0
            else:
                percent, pmpm = Decimal("5.000"), 0
            agreements.append(
                AgreementSpec(
                    practice_code=p.code,
                    status="active",
                    admin_fee_percent=percent,
                    admin_fee_pmpm_cents=pmpm,
                    signed_on=joined - dt.timedelta(days=rng.randint(10, 60)),
                    valid_from=joined,
                    valid_to=None,
                    notes="Evergreen; renews yearly unless either party gives 90 days' notice.",
                )
            )
            for payer_code in p.contracts:
                contract = contract_by_payer[payer_code]
                participations.append(
                    ParticipationSpec(p.code, contract.number, max(joined, contract.valid_from), None)
                )

        affiliations: list[AffiliationSpec] = []
        pcp_since: dict[str, dt.date] = {}
        multi = [i for i, p in enumerate(practices) if p.category == "multispecialty"]
        for prov in providers:
            practice = practices[prov.practice]
            joined = joined_on[prov.practice]
            months_in = max(0, (self.first_month.index - Month.of(joined).index) - 1)
            start = (Month.of(joined) + rng.randint(0, months_in)).first_day
            affiliations.append(AffiliationSpec(prov.npi, practice.code, prov.location, start, None))
            # a PCP takes the IPA's members once affiliated and the payer contracts have started
            pcp_since[prov.npi] = max(start, self.contract_start)
            if (
                prov.taxonomy.kind == "specialist"
                and practice.category == "specialty"
                and multi
                and rng.random() < 0.15
            ):
                # Some specialists also hold clinic hours at a multispecialty group.
                other = multi[rng.randrange(len(multi))]
                other_start = (Month.of(joined_on[other]) + rng.randint(1, 6)).first_day
                affiliations.append(AffiliationSpec(prov.npi, practices[other].code, 0, other_start, None))

        members, eligibility, coverage = self._make_members()
        assignments = self._assign_pcps(members, coverage, providers, practices, pcp_since)

        provider_specs = tuple(
            ProviderSpec(
                npi=p.npi,
                first_name=p.first_name,
                last_name=p.last_name,
                degree=p.degree,
                taxonomy_code=p.taxonomy.code,
                specialty=p.taxonomy.specialty,
                kind=p.taxonomy.kind,
                accepting_new_patients=p.accepting,
                panel_limit=p.panel_limit,
                date_of_birth=p.date_of_birth,
                personal_phone=p.personal_phone,
            )
            for p in providers
        )
        # Practices with a PCP panel first (so `practice-01` has members to show), then by name.
        rank = {
            "primary_care": 0,
            "multispecialty": 0,
            "fqhc": 0,
            "specialty": 1,
            "behavioral": 2,
            "social": 3,
        }
        order = sorted(
            range(len(practices)), key=lambda i: (rank[practices[i].category], practice_specs[i].legal_name)
        )
        by_practice = {p.code: p.locations for p in practices}
        return DemoData(
            seed=self.seed,
            as_of=self.as_of,
            regions=tuple(RegionSpec(r.code, r.name) for r in _REGIONS),
            practices=tuple(practice_specs[i] for i in order),
            locations=tuple(loc for i in order for loc in by_practice[practices[i].code]),
            providers=provider_specs,
            affiliations=tuple(affiliations),
            agreements=tuple(agreements),
            participations=tuple(participations),
            payers=_PAYERS,
            products=_PRODUCTS,
            contracts=contracts,
            terms=terms,
            members=tuple(members),
            eligibility=tuple(eligibility),
            pcp_assignments=tuple(assignments),
        )


def generate(*, seed: int, members: int = DEFAULT_MEMBERS, as_of: Month) -> DemoData:
    """Return the demo IPA for this seed: the same arguments always return equal data.

    Raise ValueError for a negative member count.
    """
    return _Generator(seed, members, as_of).generate()
