"""The demo's utilization management (issue 7): four months of referrals, prior authorizations, admission
notifications and post-stabilization requests, decided on the legal clocks, ending with an open queue.

Reference data first, as an IPA enters it once: coverage criteria (NCDs and LCDs under their CMS codes and
titles, internal policies ``UM-POL-nnn`` with dated versions, two clinical guidelines), authorization
requirements (advanced imaging per contract and line of business; sleep studies, DME and admissions for every
contract; physical therapy for Medicare Advantage and Medi-Cal), and auto-approval rules (in-network referrals
to cardiology, dermatology, ophthalmology and orthopaedics, and OB/GYN for Medi-Cal: office visits 99202-99215,
up to 3 units).

Then the requests, every one through :mod:`openipa.utilization.services` with explicit times, in the order
they were received over the :data:`WINDOW_DAYS` before "now", for members covered on the first service day:
portal and API requests are submitted by the user of the member's PCP practice, faxes and 278s by the
operations user, hospital calls by the UM nurse. Most in-network referrals are approved on receipt; the rest
go through the nurse: approved, a few extended (Medicare Advantage and Medi-Cal clocks allow it), a few
withdrawn, about 3% decided after their due time; about 8% are escalated and denied or modified by the
medical director with the specific reason and the criteria (an out-of-network referral when an in-network
specialist is available, a lumbar MRI before conservative therapy, a bi-level device without a CPAP trial,
continued inpatient days ...). Some adverse decisions get a peer-to-peer discussion; some are appealed and
decided by the other physician (``medical-director-2``): overturned, upheld or partly overturned.
Post-stabilization requests are answered within their 30 or 60 minutes, or deemed approved by the sweep.

"Now" is the build's wall clock (never past the end of ``today``), so the queue is live when the demo is
served: the requests received in the last days are open at whatever step they had reached (received, nurse
review, physician review), a few are planted overdue (due before now and still open) so the overdue alert
shows, and a few are due within the next 24 hours. Appeals received recently are open too.

Two primary-care practices refer clearly less than their peers (most of their members' referrals and prior
authorizations are not asked for) while their members have three times the admission notifications and
post-stabilization requests: the under-service watch has something to flag. (The claims generator gives every
practice the same emergency-visit rate; the admissions here are the UM side of the pattern.)

Deterministic for a seed and a "now": the same seed and now give the same requests, decisions and counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from openipa.accounts.models import User
from openipa.contracts.models import Contract
from openipa.core.identifiers import generate_npi
from openipa.core.roles import Role
from openipa.membership.models import EligibilitySpan, Member, PcpAssignment
from openipa.network.models import Affiliation, Practice, Provider
from openipa.utilization import selectors as um
from openipa.utilization import services
from openipa.utilization.engine import clocks
from openipa.utilization.engine.intake import RequestInput, ServiceInput
from openipa.utilization.models import (
    Appeal,
    AuthRequest,
    AuthRequirement,
    AutoApprovalRule,
    CriteriaReference,
    PeerToPeer,
    RequestKind,
    Urgency,
)

ProgressFn = Callable[[str, int, int], None]
STAGE = "Utilization management"

WINDOW_DAYS = 120
"""How far back the requests go from now."""
REQUESTS_PER_1000_MEMBERS = 36
"""Requests over the window for every 1,000 members on file (about 9 a month), between the bounds below."""
MIN_REQUESTS, MAX_REQUESTS = 150, 1200
LATE_SHARE = 0.03
"""Share of the requests decided after their due time."""
OVERDUE_PLANTED = 4
DUE_SOON_PLANTED = 3
LOW_REFERRAL_PRACTICES = 2
LOW_REFERRAL_SKIP = 0.8
"""Share of the low-referral practices' members' referrals and prior authorizations never asked for."""
ACUTE_FROM_LOW = 3
"""One admission notification or post-stabilization request in three is for a member of the low-referral
practices (in turn, so a small demo has them too)."""

KIND_MIX: tuple[tuple[str, float], ...] = (
    (RequestKind.REFERRAL, 0.56),
    (RequestKind.PRIOR_AUTHORIZATION, 0.34),
    (RequestKind.ADMISSION_NOTIFICATION, 0.07),
    (RequestKind.POST_STABILIZATION, 0.03),
)

# ---------------------------------------------------------------------------------------- reference data

CRITERIA: tuple[tuple[str, str, str, str, str, str | None], ...] = (
    # source, code, version, title, valid from, valid to
    ("ncd", "NCD 220.2", "6", "Magnetic Resonance Imaging (MRI)", "2011-07-07", None),
    ("ncd", "NCD 220.1", "3", "Computed Tomography", "2008-07-07", None),
    ("ncd", "NCD 20.4", "4", "Implantable Cardiac Defibrillators (ICDs)", "2018-02-15", None),
    ("ncd", "NCD 240.4", "2", "Continuous Positive Airway Pressure (CPAP) Therapy for Obstructive Sleep Apnea (OSA)",
     "2008-03-13", None),
    ("ncd", "NCD 240.4.1", "2", "Sleep Testing for Obstructive Sleep Apnea (OSA)", "2009-03-03", None),
    ("ncd", "NCD 240.2", "2", "Home Use of Oxygen", "2021-09-27", None),
    ("ncd", "NCD 280.7", "1", "Hospital Beds", "2000-01-01", None),
    ("lcd", "L34220", "R11", "Advanced Diagnostic Imaging: MRI and CT of the Spine and Extremities", "2019-10-01",
     None),
    ("lcd", "L33718", "R8", "Positive Airway Pressure (PAP) Devices for the Treatment of Obstructive Sleep Apnea",
     "2020-01-01", None),
    ("lcd", "L33820", "R6", "Hospital Beds and Accessories", "2020-01-01", None),
    ("lcd", "L33797", "R12", "Oxygen and Oxygen Equipment", "2021-09-27", None),
    ("lcd", "L34049", "R9", "Outpatient Physical and Occupational Therapy Services", "2020-01-01", None),
    ("internal", "UM-POL-001", "2025.1", "Referral management: in-network specialist referrals approved on receipt",
     "2025-01-01", "2025-12-31"),
    ("internal", "UM-POL-001", "2026.1", "Referral management: in-network specialist referrals approved on receipt",
     "2026-01-01", None),
    ("internal", "UM-POL-004", "2025.3", "Advanced imaging of the spine: six weeks of conservative therapy first",
     "2025-07-01", None),
    ("internal", "UM-POL-007", "2025.2", "Inpatient admission and continued-stay review", "2025-01-01",
     "2025-12-31"),
    ("internal", "UM-POL-007", "2026.1", "Inpatient admission and continued-stay review", "2026-01-01", None),
    ("internal", "UM-POL-009", "2025.1", "Outpatient physical therapy: visits per episode of care", "2024-01-01",
     "2025-03-31"),
    ("internal", "UM-POL-009", "2025.2", "Outpatient physical therapy: visits per episode of care", "2025-04-01",
     None),
    ("internal", "UM-POL-012", "2025.1", "Out-of-network referrals when an in-network specialist is available",
     "2025-01-01", "2025-12-31"),
    ("internal", "UM-POL-012", "2026.1", "Out-of-network referrals when an in-network specialist is available",
     "2026-01-01", None),
    ("internal", "UM-POL-015", "2024.1", "Post-stabilization care after emergency services", "2024-01-01", None),
    ("internal", "UM-POL-018", "2025.1", "Durable medical equipment: documentation of medical need", "2025-01-01",
     None),
    ("guideline", "ACR-AC Low Back Pain", "2021", "ACR Appropriateness Criteria: Low Back Pain", "2021-01-01",
     None),
    ("guideline", "AASM OSA Testing", "2017", "AASM Clinical Practice Guideline: Diagnostic Testing for Adult "
     "Obstructive Sleep Apnea", "2017-03-15", None),
)  # fmt: skip
"""Coverage criteria cited on decisions: NCDs and LCDs under CMS's codes and titles (the versions are the
demo's), internal policies with dated versions, clinical guidelines."""

IMAGING_RANGES: tuple[tuple[str, str, str, str], ...] = (
    ("70336", "70559", "CT and MRI of the head, brain and neck", "NCD 220.2"),
    ("72125", "72159", "CT and MRI of the spine", "L34220"),
    ("73200", "73725", "CT and MRI of the extremities", "L34220"),
    ("74150", "74185", "CT and MRI of the abdomen", "NCD 220.1"),
)
"""Advanced imaging needing a prior authorization under every contract, for the contract's lines of business."""
EVERY_CONTRACT_RANGES: tuple[tuple[str, str, str, str, str, str], ...] = (
    # kind, line of business (empty: every one), from, to, description, criteria
    (RequestKind.PRIOR_AUTHORIZATION, "", "95800", "95811", "Sleep studies", "NCD 240.4.1"),
    (RequestKind.PRIOR_AUTHORIZATION, "", "E0100", "E8002", "Durable medical equipment", "UM-POL-018"),
    (RequestKind.ADMISSION_NOTIFICATION, "", "99221", "99223", "Inpatient admission (notify within 24 hours)",
     "UM-POL-007"),
    (RequestKind.PRIOR_AUTHORIZATION, "medicare_advantage", "97110", "97164", "Outpatient physical therapy",
     "UM-POL-009"),
    (RequestKind.PRIOR_AUTHORIZATION, "medicaid", "97110", "97164", "Outpatient physical therapy", "UM-POL-009"),
)  # fmt: skip
AUTO_SPECIALTIES = ("Cardiovascular Disease", "Dermatology", "Ophthalmology", "Orthopaedic Surgery")
AUTO_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("In-network referral to cardiology, dermatology, ophthalmology or orthopaedics: office visits, up to 3",
     "", AUTO_SPECIALTIES),
    ("In-network OB/GYN referral for Medi-Cal members: office visits, up to 3", "medicaid",
     ("Obstetrics & Gynecology",)),
)  # fmt: skip
REFERENCE_FROM = dt.date(2024, 1, 1)
"""Requirements and auto-approval rules are in force from this day (before any demo window)."""

# --------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Template:
    """A kind of request the demo asks for, and what a physician says when it is not approved as asked."""

    key: str
    kind: str
    lines: tuple[tuple[str, int, int], ...]
    """(code, fewest units, most units) per service line."""
    diagnoses: tuple[str, ...]
    specialty: str
    """The servicing provider's specialty ('' for a hospital)."""
    weight: float
    notes: str
    lead_days: tuple[int, int] = (2, 21)
    span_days: int = 59
    adverse: float = 0.0
    """Chance the nurse escalates it and the physician does not approve it as asked."""
    deny: str = ""
    modify: str = ""
    cut: tuple[int, int] = (0, 0)
    """For a modification: (line, units taken off, at least 1 left) -- or units to 0 with (line, -1)."""
    criteria: str = ""
    appeal_grounds: str = ""
    overturn: str = ""
    out_of_network: str = ""
    """A referral's out-of-network provider (when the network has the specialty, or has none)."""


REFERRALS: tuple[tuple[str, float, tuple[str, ...], str, str], ...] = (
    # specialty, weight, diagnoses, clinical notes, out-of-network name when the network has none
    ("Cardiovascular Disease", 22, ("I25.10", "I48.91", "R07.9", "I10"),
     "Exertional chest pressure for two months; ECG with new T-wave changes.", "Pacific Heart Institute"),
    ("Orthopaedic Surgery", 20, ("M17.11", "M75.101", "M25.561"),
     "Knee pain for four months despite NSAIDs and a home exercise program.", "Coastal Orthopedic Partners"),
    ("Dermatology", 14, ("D48.5", "L57.0", "L40.0"),
     "Changing pigmented lesion on the upper back, 7 mm, irregular border.", "Sunset Skin Institute"),
    ("Ophthalmology", 12, ("H25.13", "E11.9", "H40.1131"),
     "Blurred vision; cataracts on exam. Diabetic, no eye exam in two years.", "Westside Eye Center"),
    ("Gastroenterology", 8, ("K21.9", "R19.5", "K58.9"),
     "Reflux symptoms on PPI for 12 weeks; positive FIT.", "Harbor Digestive Health"),
    ("Endocrinology, Diabetes & Metabolism", 5, ("E11.65", "E05.90"),
     "HbA1c 10.2% on three agents; needs insulin management.", "Valley Endocrine Consultants"),
    ("Pulmonary Disease", 5, ("J44.9", "R06.02", "G47.33"),
     "Progressive dyspnea; spirometry FEV1/FVC 0.62.", "South Bay Lung Center"),
    ("Obstetrics & Gynecology", 4, ("N92.0", "N83.201"),
     "Heavy menstrual bleeding for six months; ultrasound shows a 4 cm ovarian cyst.", "Bayside Women's Clinic"),
    ("Neurology", 3, ("G43.909", "G62.9", "G40.909"),
     "Numbness of both feet, progressive; B12 and TSH normal.", "Harbor Neurology Consultants"),
    ("Urology", 3, ("N40.1", "R31.9"),
     "Microscopic hematuria on two urinalyses; former smoker.", "Mission Urology Group"),
    ("Otolaryngology", 2, ("J32.9", "H90.3"),
     "Chronic sinusitis, four courses of antibiotics this year.", "Canyon ENT Associates"),
    ("Rheumatology", 2, ("M06.9", "M32.9"),
     "Symmetric small-joint synovitis; rheumatoid factor positive.", "Foothill Arthritis Center"),
)  # fmt: skip
REFERRAL_CODES = (("99203", 0.3), ("99204", 0.4), ("99205", 0.1), ("99214", 0.2))
OON_DENIAL = (
    "The referral is to a provider outside the network while an in-network {specialty} specialist, {name}, is "
    "available within the access standards (an appointment within 15 business days, within 15 miles). The "
    "member may see {name} without a new request."
)
MORE_VISITS = 0.06
"""Share of referrals asking for more visits than the auto-approval rules allow."""
OON_SHARE = 0.04
"""Share of referrals sent out of network although the network has the specialty (escalated, mostly denied)."""

PRIOR_AUTHS: tuple[_Template, ...] = (
    _Template("mri-lumbar", RequestKind.PRIOR_AUTHORIZATION, (("72148", 1, 1),), ("M54.16", "M51.16", "M54.50"),
              "Diagnostic Radiology", 10, "Low back pain radiating to the left leg.", adverse=0.25,
              deny="A lumbar MRI is not medically necessary now: the records describe low back pain for three weeks "
                   "with no red-flag signs, no neurological deficit and no trial of conservative treatment. Six "
                   "weeks of physical therapy or home exercise and medication come first.",
              criteria="UM-POL-004",
              appeal_grounds="Eight weeks of physical therapy are now documented, with new weakness of the left "
                             "ankle.",
              overturn="The new records show eight weeks of failed conservative treatment and a new motor "
                       "deficit: the criteria for a lumbar MRI are met."),
    _Template("mri-cervical", RequestKind.PRIOR_AUTHORIZATION, (("72141", 1, 1),), ("M54.12", "M47.812"),
              "Diagnostic Radiology", 4, "Neck pain with right arm numbness.", adverse=0.15,
              deny="A cervical MRI is not medically necessary now: neck pain of four weeks without a neurological "
                   "deficit, myelopathy signs or a trial of conservative treatment.",
              criteria="UM-POL-004",
              appeal_grounds="Progressive hand weakness and a positive Hoffmann sign since the request.",
              overturn="Signs of myelopathy are now documented: the MRI is medically necessary."),
    _Template("mri-brain", RequestKind.PRIOR_AUTHORIZATION, (("70551", 1, 1),), ("G43.909", "R51.9"),
              "Diagnostic Radiology", 5, "Headaches, long-standing pattern.", adverse=0.15,
              deny="An MRI of the brain is not medically necessary for a stable, long-standing headache pattern "
                   "with a normal neurological examination: imaging would not change the treatment.",
              criteria="NCD 220.2",
              appeal_grounds="The headaches changed pattern and now wake the member at night.",
              overturn="A new headache pattern with nocturnal waking is a red flag: the MRI is approved."),
    _Template("mri-knee", RequestKind.PRIOR_AUTHORIZATION, (("73721", 1, 1),), ("M17.11", "S83.241A", "M25.561"),
              "Diagnostic Radiology", 6, "Knee pain and locking after a twisting injury.", adverse=0.12,
              deny="A knee MRI is not needed to treat osteoarthritis already shown on standing X-rays: the result "
                   "would not change the treatment (exercise, weight loss, injections).",
              criteria="L34220",
              appeal_grounds="Mechanical locking documented on two visits, suspected meniscal tear.",
              overturn="Mechanical symptoms suggest a meniscal tear: the MRI meets the criteria."),
    _Template("mri-shoulder", RequestKind.PRIOR_AUTHORIZATION, (("73221", 1, 1),), ("M75.101", "M25.511"),
              "Diagnostic Radiology", 4, "Shoulder weakness after a fall; positive drop-arm test."),
    _Template("ct-abdomen", RequestKind.PRIOR_AUTHORIZATION, (("74177", 1, 1),), ("R10.31", "K57.32"),
              "Diagnostic Radiology", 5, "Right lower quadrant pain, fever; leukocytosis.", lead_days=(0, 3)),
    _Template("ct-head", RequestKind.PRIOR_AUTHORIZATION, (("70450", 1, 1),), ("R51.9", "S06.0X0A"),
              "Diagnostic Radiology", 3, "Head injury after a fall on anticoagulation.", lead_days=(0, 2)),
    _Template("sleep-study", RequestKind.PRIOR_AUTHORIZATION, (("95810", 1, 1), ("95811", 1, 1)),
              ("G47.33", "R06.83"),
              "Pulmonary Disease", 6, "Loud snoring, witnessed apneas, Epworth score 14.", adverse=0.2,
              deny="An in-laboratory sleep study is not needed: the member has no significant heart or lung disease, "
                   "so a home sleep apnea test (95806) is the appropriate first test.",
              modify="The diagnostic sleep study is approved; the titration study (95811) is not approved until the "
                     "diagnostic study confirms obstructive sleep apnea.",
              cut=(2, -1), criteria="NCD 240.4.1",
              appeal_grounds="The member has heart failure with an ejection fraction of 30%.",
              overturn="With heart failure, an in-laboratory study is the appropriate test: approved."),
    _Template("physical-therapy", RequestKind.PRIOR_AUTHORIZATION,
              (("97161", 1, 1), ("97110", 16, 24), ("97140", 8, 12)),
              ("M54.50", "M25.561", "Z96.651"), "", 8, "Twelve visits after knee replacement; gait unsteady.",
              span_days=89, adverse=0.2,
              modify="Six visits are approved for the first part of the episode (12 units of therapeutic exercise); "
                     "more visits need a progress note showing functional gains.",
              cut=(2, 12), criteria="UM-POL-009",
              appeal_grounds="The progress note shows range of motion from 70 to 95 degrees; goal 110.",
              overturn="Measured functional gains are documented: the full episode is approved."),
    _Template("cpap", RequestKind.PRIOR_AUTHORIZATION, (("E0601", 1, 1), ("A7030", 1, 1)), ("G47.33",), "", 5,
              "Polysomnography AHI 28; CPAP trial recommended.", lead_days=(1, 10), span_days=89),
    _Template("bipap", RequestKind.PRIOR_AUTHORIZATION, (("E0470", 1, 1),), ("G47.33", "J44.9"), "", 3,
              "Obstructive sleep apnea with COPD.", lead_days=(1, 10), span_days=89, adverse=0.35,
              deny="A bi-level device (E0470) is covered when CPAP has been tried and proven ineffective; the "
                   "records show no CPAP trial. A CPAP device can be requested instead.",
              criteria="L33718",
              appeal_grounds="A 30-day CPAP trial failed: the download shows persistent AHI 22 and intolerance.",
              overturn="The failed CPAP trial is now documented: the bi-level device meets the criteria."),
    _Template("oxygen", RequestKind.PRIOR_AUTHORIZATION, (("E1390", 1, 1), ("E0431", 1, 1)), ("J44.1", "J96.11"),
              "", 3, "COPD exacerbation, discharged home.", lead_days=(0, 3), span_days=89, adverse=0.2,
              deny="Home oxygen is not covered: the resting and exercise oxygen saturations in the records (92% and "
                   "90%) are above the qualifying 88%.",
              criteria="NCD 240.2",
              appeal_grounds="A repeat six-minute walk shows saturation of 86% on room air.",
              overturn="The qualifying saturation (86% on exertion) is now documented: oxygen is approved."),
    _Template("hospital-bed", RequestKind.PRIOR_AUTHORIZATION, (("E0260", 1, 1),), ("R26.2", "M62.81"), "", 2,
              "Weakness after a stroke; lives with her daughter.", lead_days=(1, 7), span_days=89, adverse=0.3,
              deny="A hospital bed is not medically necessary: the member walks with a walker and transfers alone, "
                   "and the records show no need for positioning that an ordinary bed cannot give.",
              criteria="L33820",
              appeal_grounds="The member now needs the head of the bed raised 30 degrees for aspiration risk.",
              overturn="Positioning for aspiration risk is documented: the hospital bed is approved."),
    _Template("walker", RequestKind.PRIOR_AUTHORIZATION, (("E0143", 1, 1),), ("R26.81",), "", 2,
              "Unsteady gait, two falls this year.", lead_days=(1, 7), span_days=29),
    _Template("icd", RequestKind.PRIOR_AUTHORIZATION, (("33249", 1, 1),), ("I42.0", "I50.22"),
              "Cardiovascular Disease", 1, "Dilated cardiomyopathy, EF 40% on echo.", adverse=0.5,
              deny="An implantable defibrillator for primary prevention requires an ejection fraction of 35% or "
                   "less after three months of optimal medical therapy; the records show 40% after six weeks.",
              criteria="NCD 20.4",
              appeal_grounds="A repeat echocardiogram after three months of therapy shows an EF of 30%.",
              overturn="The ejection fraction is now 30% after optimal therapy: the NCD criteria are met."),
)  # fmt: skip

ADMISSION = _Template(
    "admission", RequestKind.ADMISSION_NOTIFICATION, (("99223", 1, 1), ("99232", 2, 6)),
    ("J18.9", "I50.23", "N39.0", "A41.9", "J44.1", "I21.4"), "", 1, "Admitted through the emergency department.",
    lead_days=(-1, 0), adverse=0.2,
    modify="Inpatient days are approved through day 3: from day 4 the member was on oral treatment, afebrile and "
           "walking, and met discharge criteria; the continued stay is not medically necessary.",
    cut=(2, 2), criteria="UM-POL-007",
    appeal_grounds="The member was still on intravenous antibiotics on day 4 (blood cultures positive).",
    overturn="Intravenous treatment was still needed: the full stay is approved.",
)  # fmt: skip
POST_STABILIZATION: tuple[_Template, ...] = (
    _Template("post-stab-cath", RequestKind.POST_STABILIZATION, (("93458", 1, 1),), ("I21.4",), "", 1,
              "NSTEMI stabilized in the emergency department; troponin rising.", lead_days=(0, 0), span_days=2),
    _Template("post-stab-chole", RequestKind.POST_STABILIZATION, (("47562", 1, 1),), ("K80.00",), "", 1,
              "Acute cholecystitis, stable after fluids and antibiotics.", lead_days=(0, 1), span_days=2),
    _Template("post-stab-hip", RequestKind.POST_STABILIZATION, (("27236", 1, 1),), ("S72.001A",), "", 1,
              "Femoral neck fracture after a fall, stabilized.", lead_days=(0, 1), span_days=3),
)  # fmt: skip

P2P_NOTES = {
    PeerToPeer.Outcome.UPHELD: "Discussed the criteria with the requesting physician; no new clinical information. "
                               "The decision stands; the office will send the missing records with an appeal.",
    PeerToPeer.Outcome.REVERSED: "The requesting physician described findings not in the records sent (documented "
                                 "in the call and in a faxed note): the criteria are met.",
    PeerToPeer.Outcome.NO_SHOW: "The requesting physician did not call at the scheduled time (two attempts, "
                                "message left).",
}  # fmt: skip
P2P_EVERY = 5
"""One adverse decision in five gets a peer-to-peer discussion (the first, the sixth ...)."""
P2P_OUTCOMES = (PeerToPeer.Outcome.UPHELD, PeerToPeer.Outcome.REVERSED, PeerToPeer.Outcome.NO_SHOW,
                PeerToPeer.Outcome.UPHELD, PeerToPeer.Outcome.REVERSED)  # fmt: skip
APPEAL_CYCLE, APPEALED = 9, frozenset({1, 3, 5, 7})
"""Adverse decisions appealed: those whose number modulo 9 is in the set (about 44%)."""
APPEAL_OUTCOMES = (Appeal.Status.OVERTURNED, Appeal.Status.UPHELD, Appeal.Status.PARTIAL, Appeal.Status.UPHELD,
                   Appeal.Status.OVERTURNED)  # fmt: skip
"""Appeal decisions in turn: 40% overturned, 20% partly (upheld when the request has no units to give), 40%
upheld."""
UPHOLD = (
    "The additional records do not change the assessment: the criteria cited in the decision are still not met. "
    "The member may ask for an independent review as the notice explains."
)
EXTENSION_REASON = (
    "The requesting office has not sent the clinical notes and imaging report needed to decide (asked by phone "
    "and fax); the extension gives them time and is in the member's interest."
)
WITHDRAWAL_REASONS = (
    "The member decided not to have the service.",
    "Submitted twice by the office; this copy is withdrawn.",
    "The member changed health plans before the service.",
)
OUT_OF_NETWORK_FACILITIES = (
    "Westside Imaging Center",
    "Golden State Medical Supply",
    "Coastal Physical Therapy",
)
HOSPITAL_FALLBACK = "St. Vincent Community Hospital"


@dataclass(frozen=True)
class UtilizationSummary:
    requests: int = 0
    auto_approved: int = 0
    approved: int = 0
    modified: int = 0
    denied: int = 0
    deemed_approved: int = 0
    withdrawn: int = 0
    open: int = 0
    overdue: int = 0
    due_soon: int = 0
    """Open and due within 24 hours of the build's now."""
    escalated: int = 0
    extended: int = 0
    decided_late: int = 0
    peer_to_peers: int = 0
    appeals: int = 0
    appeals_overturned: int = 0
    appeals_upheld: int = 0
    appeals_open: int = 0
    criteria: int = 0
    requirements: int = 0
    auto_rules: int = 0
    low_referral_practices: tuple[str, ...] = ()
    """Codes of the practices made to refer less (see the module docstring)."""
    now: dt.datetime | None = None


@dataclass
class _Member:
    pk: int
    member_id: str
    payer_code: str
    name: str
    state: str
    spans: list[tuple[dt.date, dt.date | None, str]] = field(default_factory=list)
    pcps: list[tuple[dt.date, dt.date | None, str, int]] = field(default_factory=list)
    """(from, to, PCP NPI, practice id)."""

    def lob_on(self, day: dt.date) -> str | None:
        found = [s for s in self.spans if s[0] <= day and (s[1] is None or day <= s[1])]
        return max(found, key=lambda s: s[0])[2] if found else None

    def pcp_on(self, day: dt.date) -> tuple[str, int] | None:
        found = [p for p in self.pcps if p[0] <= day and (p[1] is None or day <= p[1])]
        return (found[-1][2], found[-1][3]) if found else None


@dataclass
class _Plan:
    """One request to make and how its story goes."""

    received_at: dt.datetime
    template: _Template
    member: _Member
    lob: str
    pcp_npi: str
    practice_id: int
    service_from: dt.date
    urgency: str
    units: tuple[int, ...]
    diagnoses: tuple[str, ...]
    servicing_npi: str = ""
    servicing_name: str = ""
    notes: str = ""
    oon_denial: str = ""
    story: str = "nurse"
    """auto | nurse | escalate | extend | late | withdraw | deemed | overdue | due_soon"""
    md_decision: str = "approve"
    stage_at_overdue: str = "nurse_review"


PERSONAS = ("um-nurse", "medical-director", "medical-director-2", "operations")
"""The staff logins the requests are handled by (the nurse, the two physicians, intake)."""


class MissingPersonas(LookupError):
    """The demo's staff logins are not in the database: nothing is written."""


class _Builder:
    def __init__(self, seed: int, now: dt.datetime) -> None:
        self.rng = random.Random(f"openipa-demo-utilization-{seed}")
        self.now = now
        self.tz = um.ipa_zone()
        self.rules = um.clock_rules()
        self.calendars = um.calendars_for(self.rules)
        users = {u.username: u for u in User.objects.filter(username__in=PERSONAS)}
        missing = [name for name in PERSONAS if name not in users]
        if missing:
            raise MissingPersonas(f"the demo's utilization management needs the logins {', '.join(missing)}: "
                                  "build the demo's logins first")  # fmt: skip
        self.nurse, self.md, self.md2, self.operations = (users[name] for name in PERSONAS)
        self.practice_users = {
            u.practice_id: u for u in User.objects.filter(role=Role.PRACTICE_USER).order_by("username")
        }
        self.criteria: dict[str, list[CriteriaReference]] = {}
        self.adverse = self.talks = self.appeals = self.acute = 0
        """Adverse decisions, peer-to-peer discussions, appeals decided and acute requests so far: follow-ups,
        outcomes and the low-referral practices' admissions come in turn (not by chance), so even a small demo
        has every kind."""
        self.office = False
        """Whether the request being made is answered in office hours (a standard one)."""

    # ------------------------------------------------------------------------------------- reference data

    def load_reference(self) -> tuple[int, int, int]:
        refs = CriteriaReference.objects.bulk_create(
            CriteriaReference(source=source, code=code, version=version, title=title,
                              valid_from=dt.date.fromisoformat(start),
                              valid_to=dt.date.fromisoformat(end) if end else None)
            for source, code, version, title, start, end in CRITERIA
        )  # fmt: skip
        for ref in refs:
            self.criteria.setdefault(ref.code, []).append(ref)
        latest = {code: max(found, key=lambda r: r.valid_from) for code, found in self.criteria.items()}
        requirements: list[AuthRequirement] = []
        for contract in Contract.objects.filter(status=Contract.Status.ACTIVE).prefetch_related("products"):
            for lob in sorted({p.line_of_business for p in contract.products.all()}):
                requirements.extend(
                    AuthRequirement(contract=contract, line_of_business=lob, kind=RequestKind.PRIOR_AUTHORIZATION,
                                    code_from=lo, code_to=hi, description=text, criteria=latest[crit],
                                    valid_from=max(contract.valid_from, REFERENCE_FROM), valid_to=contract.valid_to)
                    for lo, hi, text, crit in IMAGING_RANGES
                )  # fmt: skip
        requirements.extend(
            AuthRequirement(contract=None, line_of_business=lob, kind=kind, code_from=lo, code_to=hi,
                            description=text, criteria=latest[crit], valid_from=REFERENCE_FROM)
            for kind, lob, lo, hi, text, crit in EVERY_CONTRACT_RANGES
        )  # fmt: skip
        AuthRequirement.objects.bulk_create(requirements)
        rules = [
            AutoApprovalRule(name=name, kind=RequestKind.REFERRAL, line_of_business=lob,
                             specialties=",".join(s.lower() for s in specialties), in_network_only=True,
                             code_from="99202", code_to="99215", max_units=3, criteria=latest["UM-POL-001"],
                             valid_from=REFERENCE_FROM)
            for name, lob, specialties in AUTO_RULES
        ]  # fmt: skip
        for rule in rules:
            rule.save()  # one by one: the rules are matched in id order
        return len(refs), len(requirements), len(rules)

    def criterion(self, code: str, on: dt.date) -> tuple[str, int | None]:
        """(text, reference id) of the criteria `code` in force on `on` (the text alone if none is)."""
        found = [
            r
            for r in self.criteria.get(code, [])
            if r.valid_from <= on and (r.valid_to is None or on <= r.valid_to)
        ]
        if not found:
            return code, None
        ref = max(found, key=lambda r: r.valid_from)
        return f"{ref.code} v{ref.version}: {ref.title}", ref.pk

    # ---------------------------------------------------------------------------------------- the world

    def load_world(self, low_referral: Sequence[str] | None = None) -> None:
        members = {
            pk: _Member(pk, member_id, payer, f"{first} {last}", state)
            for pk, member_id, payer, first, last, state in Member.objects.order_by("pk").values_list(
                "pk", "payer_member_id", "payer__code", "first_name", "last_name", "state"
            )
        }
        for member_id, start, end, lob in EligibilitySpan.objects.order_by("member_id", "valid_from").values_list(
            "member_id", "valid_from", "valid_to", "product__line_of_business"
        ):  # fmt: skip
            members[member_id].spans.append((start, end, lob))
        for member_id, start, end, npi, practice_id in PcpAssignment.objects.order_by(
            "member_id", "valid_from"
        ).values_list("member_id", "valid_from", "valid_to", "provider__npi", "practice_id"):
            members[member_id].pcps.append((start, end, npi, practice_id))
        self.members = [m for m in members.values() if m.spans and m.pcps]
        # the specialists in network now, by specialty; the hospitals
        current = Affiliation.objects.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=self.now.date()))
        self.specialists: dict[str, list[tuple[str, str]]] = {}
        self.hospitals: list[tuple[str, str]] = []
        for npi, first, last, degree, specialty, kind in (
            Provider.objects.filter(pk__in=current.values("provider_id"))
            .order_by("npi")
            .values_list("npi", "first_name", "last_name", "degree", "specialty", "kind")
        ):
            name = f"{first} {last}".strip() + (f", {degree}" if degree else "")
            if kind == Provider.Kind.FACILITY and "Hospital" in specialty:
                self.hospitals.append((npi, name))
            elif kind == Provider.Kind.SPECIALIST:
                self.specialists.setdefault(specialty, []).append((npi, name))
        if not self.hospitals:
            self.hospitals = [(generate_npi(self.rng), HOSPITAL_FALLBACK)]
        self.oon_npis = {name: generate_npi(self.rng) for *_r, name in REFERRALS}
        self.oon_npis.update({name: generate_npi(self.rng) for name in OUT_OF_NETWORK_FACILITIES})
        counts = Counter(p for m in self.members for _s, _e, _n, p in m.pcps[-1:])
        largest = [practice for practice, _n in counts.most_common(8)]
        picks = sorted(self.rng.sample(largest, min(LOW_REFERRAL_PRACTICES, len(largest))))
        if low_referral is not None:  # chosen by the caller (say, with the claims' higher ED use)
            picks = list(Practice.objects.filter(code__in=low_referral).values_list("pk", flat=True))
        self.low_practices = set(picks)
        self.low_members = [m for m in self.members if m.pcps[-1][3] in self.low_practices]

    # ----------------------------------------------------------------------------------------- planning

    def _when(self, day: dt.date, *, any_hour: bool = False) -> dt.datetime:
        hour = self.rng.randint(0, 23) if any_hour else self.rng.randint(8, 16)
        return dt.datetime.combine(day, dt.time(hour, self.rng.randint(0, 59)), tzinfo=self.tz)

    def _member_for(self, kind: str, day: dt.date) -> tuple[_Member, str, tuple[str, int]] | None:
        acute = kind in (RequestKind.ADMISSION_NOTIFICATION, RequestKind.POST_STABILIZATION)
        pool = self.members
        if acute:
            self.acute += 1
            if self.low_members and self.acute % ACUTE_FROM_LOW == 1:
                pool = self.low_members
        for _ in range(200):
            member = self.rng.choice(pool)
            lob, pcp = member.lob_on(day), member.pcp_on(day)
            if lob is None or pcp is None:
                continue
            if not acute and pcp[1] in self.low_practices and self.rng.random() < LOW_REFERRAL_SKIP:
                continue
            return member, lob, pcp
        return None

    def _template(self, kind: str) -> _Template:
        if kind == RequestKind.PRIOR_AUTHORIZATION:
            return self.rng.choices(PRIOR_AUTHS, weights=[t.weight for t in PRIOR_AUTHS])[0]
        if kind == RequestKind.ADMISSION_NOTIFICATION:
            return ADMISSION
        if kind == RequestKind.POST_STABILIZATION:
            return self.rng.choice(POST_STABILIZATION)
        specialty, _w, dx, notes, oon = self.rng.choices(REFERRALS, weights=[r[1] for r in REFERRALS])[0]
        code = self.rng.choices([c for c, _ in REFERRAL_CODES], weights=[w for _, w in REFERRAL_CODES])[0]
        return _Template(f"referral-{specialty}", RequestKind.REFERRAL, ((code, 1, 3),), dx, specialty, 0, notes,
                         lead_days=(1, 21), span_days=89, out_of_network=oon)  # fmt: skip

    def plan(self, total: int) -> list[_Plan]:
        start = self.now - dt.timedelta(days=WINDOW_DAYS)
        kinds = [k for k, _ in KIND_MIX]
        weights = [w for _, w in KIND_MIX]
        plans: list[_Plan] = []
        for _ in range(total):
            kind = self.rng.choices(kinds, weights=weights)[0]
            acute = kind in (RequestKind.ADMISSION_NOTIFICATION, RequestKind.POST_STABILIZATION)
            offset = self.rng.random() * WINDOW_DAYS * 86_400
            moment = (start + dt.timedelta(seconds=offset)).astimezone(self.tz)
            day = moment.date()
            if not acute and day.weekday() >= 5:
                # offices send on weekdays: the Friday before (or the Monday after, at the window's start)
                friday = day - dt.timedelta(days=day.weekday() - 4)
                day = friday if friday > start.date() else friday + dt.timedelta(days=3)
            received = max(self._when(day, any_hour=acute), start + dt.timedelta(hours=1))
            if received > self.now - dt.timedelta(hours=2):
                received = self.now - dt.timedelta(hours=self.rng.randint(2, 6))
            made = self._plan_one(kind, received)
            if made is not None:
                plans.append(made)
        # decided late: a share of the nurse's requests old enough for the late answer to be history
        old = [
            p for p in plans
            if p.story == "nurse" and p.template.kind != RequestKind.POST_STABILIZATION
            and p.received_at < self.now - dt.timedelta(days=21)
        ]  # fmt: skip
        for p in self.rng.sample(old, min(len(old), max(2, round(LATE_SHARE * len(plans))))):
            p.story = "late"
        # at least one denial, modification, withdrawal and extension, however small the demo
        for story, decision in (
            ("escalate", "deny"),
            ("escalate", "modify"),
            ("withdraw", ""),
            ("extend", ""),
        ):
            if any(p.story == story and (not decision or p.md_decision == decision) for p in plans):
                continue
            fit = [
                p for p in old
                if p.story == "nurse" and (not decision or getattr(p.template, decision))
                and (story != "extend" or p.lob != "commercial")
            ]  # fmt: skip
            if fit:
                fit[0].story, fit[0].md_decision = story, decision or fit[0].md_decision
        post_stabilization = [p for p in plans if p.template.kind == RequestKind.POST_STABILIZATION]
        if post_stabilization and not any(p.story == "deemed" for p in post_stabilization):
            post_stabilization[0].story = "deemed"
        self._plant(plans)
        return sorted(plans, key=lambda p: p.received_at)

    def _plan_one(self, kind: str, received: dt.datetime) -> _Plan | None:
        template = self._template(kind)
        day = received.astimezone(self.tz).date()
        lo, hi = template.lead_days
        service_from = day + dt.timedelta(days=self.rng.randint(lo, hi))
        picked = self._member_for(kind, service_from)
        if picked is None:
            return None
        member, lob, (pcp_npi, practice_id) = picked
        urgency = Urgency.STANDARD
        if kind == RequestKind.POST_STABILIZATION or (
            self.rng.random() < (0.3 if kind == RequestKind.ADMISSION_NOTIFICATION else 0.07)
        ):
            urgency = Urgency.EXPEDITED
        units = tuple(self.rng.randint(a, b) for _c, a, b in template.lines)
        if kind == RequestKind.REFERRAL and self.rng.random() < MORE_VISITS:
            units = (self.rng.randint(4, 6),)  # more visits than a rule approves: for the nurse
        diagnoses = tuple(
            self.rng.sample(template.diagnoses, min(len(template.diagnoses), self.rng.randint(1, 2)))
        )
        plan = _Plan(received, template, member, lob, pcp_npi, practice_id, service_from, urgency, units,
                     diagnoses, notes=template.notes)  # fmt: skip
        self._servicing(plan)
        self._story(plan)
        return plan

    def _servicing(self, plan: _Plan) -> None:
        t = plan.template
        if t.kind in (RequestKind.ADMISSION_NOTIFICATION, RequestKind.POST_STABILIZATION):
            plan.servicing_npi, plan.servicing_name = self.rng.choice(self.hospitals)
            return
        in_network = self.specialists.get(t.specialty, [])
        if t.kind == RequestKind.REFERRAL:
            oon_name = t.out_of_network
            if in_network and self.rng.random() < OON_SHARE:
                chosen = self.rng.choice(in_network)
                plan.servicing_npi, plan.servicing_name = self.oon_npis[oon_name], oon_name
                plan.oon_denial = OON_DENIAL.format(specialty=t.specialty.lower(), name=chosen[1])
            elif in_network:
                plan.servicing_npi, plan.servicing_name = self.rng.choice(in_network)
            else:
                plan.servicing_npi, plan.servicing_name = self.oon_npis[oon_name], oon_name
            return
        if in_network:
            plan.servicing_npi, plan.servicing_name = self.rng.choice(in_network)
            return
        name = (
            OUT_OF_NETWORK_FACILITIES[0] if t.specialty else
            OUT_OF_NETWORK_FACILITIES[2] if t.key == "physical-therapy" else OUT_OF_NETWORK_FACILITIES[1]
        )  # fmt: skip
        plan.servicing_npi, plan.servicing_name = self.oon_npis[name], name

    def _story(self, plan: _Plan) -> None:
        t = plan.template
        draw = self.rng.random()
        if t.kind == RequestKind.POST_STABILIZATION:
            plan.story = "deemed" if draw < 0.35 else "nurse"
            return
        if plan.oon_denial:
            plan.story, plan.md_decision = "escalate", "deny" if draw < 0.85 else "approve"
            return
        if t.kind == RequestKind.REFERRAL and t.specialty in AUTO_SPECIALTIES and plan.units[0] <= 3:
            plan.story = (
                "auto"  # approved on receipt when the servicing provider is in network (else: the nurse)
            )
            return
        if draw < t.adverse:
            plan.story = "escalate"
            second = self.rng.random()
            if t.modify and (second < 0.45 or not t.deny):
                plan.md_decision = "modify"
            elif t.deny and second < 0.85:
                plan.md_decision = "deny"
            else:
                plan.md_decision = "approve"
            return
        draw = self.rng.random()
        if draw < 0.015:
            plan.story = "withdraw"
        elif draw < 0.055:
            plan.story = "extend"
        elif draw < 0.085:
            plan.story = "escalate"  # a nurse's question to the physician, approved

    def _plant(self, plans: list[_Plan]) -> None:
        """Open requests: a few overdue (due a few hours to two days ago), a few due in the next 24 hours."""
        for story, count in (("overdue", OVERDUE_PLANTED), ("due_soon", DUE_SOON_PLANTED)):
            made = 0
            for _ in range(50 * count):
                if made == count:
                    break
                kind = RequestKind.PRIOR_AUTHORIZATION if self.rng.random() < 0.7 else RequestKind.REFERRAL
                probe = self._plan_one(kind, self.now - dt.timedelta(days=3))
                if probe is None:
                    continue
                received = self._received_for(probe, story)
                if received is None:
                    continue
                probe.received_at = received
                lo, hi = probe.template.lead_days
                probe.service_from = received.astimezone(self.tz).date() + dt.timedelta(
                    days=self.rng.randint(lo, hi)
                )
                if probe.member.lob_on(probe.service_from) != probe.lob or probe.member.pcp_on(
                    probe.service_from
                ) != (probe.pcp_npi, probe.practice_id):
                    continue
                if probe.template.kind == RequestKind.REFERRAL:
                    probe.units = (self.rng.randint(4, 6),)  # more visits than the rule approves: the nurse's
                probe.story = story
                probe.stage_at_overdue = "physician_review" if made % 2 else "nurse_review"
                plans.append(probe)
                made += 1

    def _due(self, plan: _Plan, received: dt.datetime) -> dt.datetime:
        state = (plan.member.state or um.ipa_state()).upper()
        rule = clocks.pick_rule(self.rules, line_of_business=plan.lob, jurisdiction=state,
                                kind=plan.template.kind, urgency=plan.urgency, applies_to="request",
                                on=clocks.local_date(received, self.tz))  # fmt: skip
        return clocks.due_at(received, rule, self.tz, self.calendars)

    def _received_for(self, plan: _Plan, story: str) -> dt.datetime | None:
        """A receipt time (walking back from now in steps) whose due time falls in the story's window."""
        lo, hi = (
            (self.now - dt.timedelta(hours=40), self.now - dt.timedelta(hours=2)) if story == "overdue"
            else (self.now + dt.timedelta(hours=2), self.now + dt.timedelta(hours=22))
        )  # fmt: skip
        jitter = self.rng.randint(0, 59)
        for step in range(1, 24 * 30, 1):
            received = self.now - dt.timedelta(hours=step, minutes=jitter)
            due = self._due(plan, received)
            if lo <= due <= hi:
                return received
            if due < lo:
                return None
        return None

    # ------------------------------------------------------------------------------------------ making

    def _submitter(self, plan: _Plan) -> tuple[User, str]:
        if plan.template.kind in (RequestKind.ADMISSION_NOTIFICATION, RequestKind.POST_STABILIZATION):
            return (self.nurse, AuthRequest.Source.STAFF) if self.rng.random() < 0.7 else (
                self.operations, AuthRequest.Source.X12)  # fmt: skip
        practice_user = self.practice_users.get(plan.practice_id)
        draw = self.rng.random()
        if practice_user is not None and draw < 0.62:
            return practice_user, AuthRequest.Source.PORTAL
        if practice_user is not None and draw < 0.72:
            return practice_user, AuthRequest.Source.API
        if draw < 0.86:
            return self.operations, AuthRequest.Source.STAFF
        return self.operations, AuthRequest.Source.X12

    def _input(self, plan: _Plan) -> RequestInput:
        t = plan.template
        end = plan.service_from + dt.timedelta(days=t.span_days)
        if t.kind == RequestKind.ADMISSION_NOTIFICATION:
            end = plan.service_from + dt.timedelta(days=plan.units[-1])
        lines = [
            ServiceInput(code, units, plan.service_from, end)
            for (code, _a, _b), units in zip(t.lines, plan.units, strict=True)
        ]
        requesting = plan.pcp_npi
        if t.kind in (RequestKind.ADMISSION_NOTIFICATION, RequestKind.POST_STABILIZATION):
            requesting = plan.servicing_npi
        return RequestInput(
            kind=t.kind, urgency=plan.urgency, member_id=plan.member.member_id, payer_code=plan.member.payer_code,
            requesting_npi=requesting, servicing_npi=plan.servicing_npi, servicing_name=plan.servicing_name,
            diagnoses=list(plan.diagnoses), services=lines, clinical_notes=plan.notes,
        )  # fmt: skip

    def _at(
        self, start: dt.datetime, span: dt.timedelta, lo: float, hi: float, limit: dt.datetime | None = None
    ) -> dt.datetime:
        """A moment between ``lo`` and ``hi`` of ``span`` after ``start`` (five minutes at least); with a
        ``limit``, for a standard request, moved into office hours (8:00-17:00 on a weekday) if that is still
        before the limit: the staff answer standard requests from the office."""
        seconds = span.total_seconds() * (lo + (hi - lo) * self.rng.random())
        moment = start + dt.timedelta(minutes=max(5, int(seconds // 60)))
        if limit is None or not self.office:
            return moment
        local = moment.astimezone(self.tz)
        day = local.date() + dt.timedelta(days=1 if local.hour >= 17 else 0)
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        if day == local.date() and 8 <= local.hour < 17:
            return moment
        opened = dt.datetime.combine(day, dt.time(8, 0), tzinfo=self.tz) + dt.timedelta(
            minutes=self.rng.randint(0, 150)
        )
        return opened if opened <= limit else moment

    def make(self, plan: _Plan) -> None:
        actor, source = self._submitter(plan)
        attachments: list[tuple[str, str, bytes]] = []
        if plan.template.kind == RequestKind.PRIOR_AUTHORIZATION and self.rng.random() < 0.25:
            text = f"Clinical notes for {plan.member.name}\n{plan.notes}\nDiagnoses: {', '.join(plan.diagnoses)}\n"
            attachments.append(("clinical-notes.txt", "text/plain", text.encode()))
        request = services.submit_request(actor=actor, data=self._input(plan), source=source,
                                          received_at=plan.received_at, attachments=attachments)  # fmt: skip
        if not request.is_open:
            return  # approved on receipt
        received, due = request.received_at, request.due_at
        span = due - received
        story = plan.story
        self.office = request.urgency == Urgency.STANDARD
        if story == "deemed":
            services.sweep_deemed(due + dt.timedelta(minutes=1))
            return
        approver = self.md if self.rng.random() < 0.1 else self.nurse  # a physician approves some directly
        if story in ("overdue", "due_soon"):
            if story == "due_soon" and self.rng.random() < 0.34:
                return  # not even taken yet
            taken = min(self._at(received, span, 0.05, 0.3), self.now)
            request = services.take_for_review(actor=self.nurse, request=request, now=taken)
            if plan.stage_at_overdue == "physician_review":
                services.escalate(actor=self.nurse, request=request, now=min(taken + dt.timedelta(hours=3), self.now),
                                  note="Outside what a nurse may approve: needs a physician's review.")  # fmt: skip
            return
        taken = self._at(received, span, 0.01, 0.15, due)
        if taken > self.now:
            return
        request = services.take_for_review(actor=self.nurse, request=request, now=taken)
        if story == "withdraw":
            at = self._at(taken, due - taken, 0.05, 0.4, due)
            if at <= self.now:
                services.withdraw(
                    actor=actor, request=request, reason=self.rng.choice(WITHDRAWAL_REASONS), now=at
                )
            return
        if story == "extend":
            at = min(max(self._at(received, span, 0.4, 0.85, due), taken), due - dt.timedelta(minutes=1))
            if at > self.now:
                return
            if request.clock_rule.extension_days:
                request = services.extend(actor=self.nurse, request=request, reason=EXTENSION_REASON, now=at)
                due = request.due_at
            decided = self._at(at, due - at, 0.2, 0.8, due)
            if decided <= self.now:
                services.decide(actor=self.nurse, request=request, decision="approve", now=decided,
                                reason="The clinical notes arrived; the criteria are met.")  # fmt: skip
            return
        if story == "escalate":
            self._escalate(plan, request, taken, due)
            return
        if story == "late":
            decided = due + dt.timedelta(minutes=self.rng.randint(90, 60 * 60))
        else:
            decided = self._at(taken, due - taken, 0.05, 0.8, due)
        if decided <= self.now:
            services.decide(actor=approver, request=request, decision="approve", now=decided,
                            reason="Meets the criteria for the service as requested.")  # fmt: skip

    def _escalate(self, plan: _Plan, request: AuthRequest, taken: dt.datetime, due: dt.datetime) -> None:
        t = plan.template
        at = self._at(taken, due - taken, 0.02, 0.25, due)
        if at > self.now:
            return
        note = (
            "Out-of-network referral while the network has the specialty: for the physician."
            if plan.oon_denial else "Does not clearly meet the criteria: for the physician's review."
        )  # fmt: skip
        request = services.escalate(actor=self.nurse, request=request, note=note, now=at)
        decided = self._at(at, due - at, 0.1, 0.9, due)
        if decided > self.now:
            return
        physician, other = (self.md, self.md2) if self.rng.random() < 0.85 else (self.md2, self.md)
        decision = plan.md_decision
        on = decided.astimezone(self.tz).date()
        if decision == "approve":
            services.decide(actor=physician, request=request, decision="approve", now=decided,
                            reason="Reviewed by the physician: the records support the service as asked.")  # fmt: skip
            return
        if plan.oon_denial:
            reason, code = plan.oon_denial, "UM-POL-012"
        elif decision == "modify":
            reason, code = t.modify, t.criteria
        else:
            reason, code = t.deny, t.criteria
        criteria, criteria_id = self.criterion(code, on)
        cut: dict[int, Decimal] = {}
        if decision == "modify":
            line, keep = t.cut
            asked = plan.units[line - 1]
            granted = 0 if keep < 0 else min(keep, asked - 1)
            if granted >= asked or granted < 0:
                decision, reason, criteria_id = (
                    "approve",
                    "Reviewed by the physician: approved as requested.",
                    None,
                )
            cut = {line: Decimal(granted)}
        request = services.decide(actor=physician, request=request, decision=decision, reason=reason,
                                  criteria=criteria if decision != "approve" else "", criteria_id=criteria_id,
                                  approved_units=cut or None, now=decided)  # fmt: skip
        if decision == "approve":
            return
        self._after_adverse(plan, request, decided, physician, other)

    def _after_adverse(self, plan: _Plan, request: AuthRequest, decided: dt.datetime, physician: User,
                       other: User) -> None:  # fmt: skip
        t = plan.template
        self.adverse += 1
        if self.adverse % P2P_EVERY == 1:
            held = decided + dt.timedelta(days=self.rng.randint(1, 4), hours=self.rng.randint(0, 6))
            if held <= self.now:
                talk = P2P_OUTCOMES[self.talks % len(P2P_OUTCOMES)]
                self.talks += 1
                services.record_peer_to_peer(actor=physician, request=request, held_at=held,
                                             provider_name=request.requesting_provider.display_name
                                             if request.requesting_provider else request.requesting_npi,
                                             outcome=talk, notes=P2P_NOTES[talk], now=held)  # fmt: skip
                if talk == PeerToPeer.Outcome.REVERSED:
                    return
        if self.adverse % APPEAL_CYCLE not in APPEALED:
            return
        received = decided + dt.timedelta(days=self.rng.randint(3, 28), hours=self.rng.randint(0, 8))
        if received > self.now:
            return
        urgency = Urgency.EXPEDITED if self.rng.random() < 0.1 else Urgency.STANDARD
        by_practice = request.source in (AuthRequest.Source.PORTAL, AuthRequest.Source.API)
        actor = self.practice_users.get(plan.practice_id) if by_practice else None
        physician_name = (
            request.requesting_provider.display_name
            if request.requesting_provider
            else "The requesting physician"
        )
        if actor is not None or self.rng.random() < 0.5:
            appellant = f"{physician_name}, on the member's behalf"
        else:
            appellant = f"{plan.member.name} (the member)"
        grounds = t.appeal_grounds or "The member needs to see this specialist: the in-network one has no " \
                                      "appointment for two months."  # fmt: skip
        appeal = services.open_appeal(actor=actor or self.operations, request=request, appellant=appellant,
                                      grounds=grounds, urgency=urgency, received_at=received)  # fmt: skip
        window = appeal.due_at - received
        self.office = urgency == Urgency.STANDARD
        answered = self._at(received, window, 0.1, 0.9, appeal.due_at)
        if answered > self.now:
            return
        outcome = APPEAL_OUTCOMES[self.appeals % len(APPEAL_OUTCOMES)]
        self.appeals += 1
        if outcome == Appeal.Status.OVERTURNED:
            reason = t.overturn or "The in-network specialist cannot see the member within the access standard: " \
                                   "the out-of-network referral is approved."  # fmt: skip
        elif outcome == Appeal.Status.PARTIAL and (units := self._partial(plan, request)) is not None:
            reason = f"Partly overturned: {t.modify}"
        else:
            outcome, reason = Appeal.Status.UPHELD, UPHOLD
        if outcome != Appeal.Status.PARTIAL:
            units = None
        services.decide_appeal(actor=other, appeal=appeal, outcome=outcome, reason=reason, approved_units=units,
                               now=answered)  # fmt: skip

    def _partial(self, plan: _Plan, request: AuthRequest) -> dict[int, Decimal] | None:
        """Units for a partly overturned appeal: a denial becomes the template's modification; a modification
        gets half the units it took off back. None when the template has no modification to give."""
        t = plan.template
        line, keep = t.cut
        if not line or not t.modify:
            return None
        asked = plan.units[line - 1]
        if request.status == AuthRequest.Status.DENIED:
            return {line: Decimal(0 if keep < 0 else min(keep, asked - 1))}
        granted = request.services.get(line_number=line).units_approved or Decimal(0)
        middle = (granted + asked) // 2
        return {line: Decimal(middle)} if granted < middle < asked else None


FIRST_DECISIONS = ("approved", "modified", "denied")
"""The events of a decision on the request itself (a reversal or an appeal's approval comes later)."""


def demo_now(today: dt.date, *, wall: dt.datetime | None = None) -> dt.datetime:
    """The build's "now" for the requests: the wall clock (``wall``, by default the current time), but not past
    17:00 on ``today`` (a demo built as of an earlier month ends then), in the IPA's time zone, to the minute."""
    tz = um.ipa_zone()
    end = dt.datetime.combine(today, dt.time(17, 0), tzinfo=tz)
    return min((wall or timezone.now()).astimezone(tz), end).replace(second=0, microsecond=0)


def request_count(members: int) -> int:
    return max(MIN_REQUESTS, min(MAX_REQUESTS, members * REQUESTS_PER_1000_MEMBERS // 1000))


def build_utilization(
    *,
    seed: int,
    today: dt.date,
    progress: ProgressFn | None = None,
    now: dt.datetime | None = None,
    low_referral_practices: Sequence[str] | None = None,
) -> UtilizationSummary:
    """The reference data and the requests (see the module docstring); ``now`` defaults to :func:`demo_now`.
    ``low_referral_practices`` (practice codes) names the practices that refer less and admit more; by default
    two of the eight largest panels, chosen by the seed."""
    now = now or demo_now(today)
    builder = _Builder(seed, now)
    criteria, requirements, auto_rules = builder.load_reference()
    builder.load_world(low_referral_practices)
    plans = builder.plan(request_count(len(builder.members)))
    total = len(plans)
    if progress is not None:
        progress(STAGE, 0, total)
    for done, plan in enumerate(plans, start=1):
        builder.make(plan)
        if progress is not None and (done % 25 == 0 or done == total):
            progress(STAGE, done, total)
    low = tuple(
        Practice.objects.filter(pk__in=builder.low_practices).order_by("code").values_list("code", flat=True)
    )
    return dataclasses.replace(
        summarize(now, criteria=criteria, requirements=requirements, auto_rules=auto_rules),
        low_referral_practices=low,
    )


def summarize(
    now: dt.datetime, *, criteria: int = 0, requirements: int = 0, auto_rules: int = 0
) -> UtilizationSummary:
    """Counts of the demo's requests (numbered ``UM...``: the claims demo's bulk authorizations are not its)."""
    from openipa.utilization.models import AuthEvent

    requests = AuthRequest.objects.filter(number__startswith="UM")
    status = Counter(requests.values_list("status", flat=True))
    open_ = requests.filter(status__in=AuthRequest.OPEN)
    events = Counter(AuthEvent.objects.filter(request__in=requests).values_list("action", flat=True))
    appeals = Counter(Appeal.objects.filter(request__in=requests).values_list("status", flat=True))
    first_decision: dict[int, dt.datetime] = {}
    for request_id, at in AuthEvent.objects.filter(
        request__in=requests, action__in=FIRST_DECISIONS
    ).values_list("request_id", "at"):
        first_decision[request_id] = min(at, first_decision.get(request_id, at))
    due = dict(requests.filter(pk__in=first_decision).values_list("pk", "due_at"))
    late = sum(1 for request_id, at in first_decision.items() if at > due[request_id])
    return UtilizationSummary(
        requests=requests.count(),
        auto_approved=requests.exclude(auto_rule=None).count(),
        approved=status[AuthRequest.Status.APPROVED],
        modified=status[AuthRequest.Status.MODIFIED],
        denied=status[AuthRequest.Status.DENIED],
        deemed_approved=status[AuthRequest.Status.DEEMED_APPROVED],
        withdrawn=status[AuthRequest.Status.WITHDRAWN],
        open=open_.count(),
        overdue=open_.filter(due_at__lt=now).count(),
        due_soon=open_.filter(due_at__gte=now, due_at__lt=now + dt.timedelta(hours=24)).count(),
        escalated=events["escalated"],
        extended=events["extended"],
        decided_late=late,
        peer_to_peers=events["peer_to_peer"],
        appeals=sum(appeals.values()),
        appeals_overturned=appeals[Appeal.Status.OVERTURNED],
        appeals_upheld=appeals[Appeal.Status.UPHELD],
        appeals_open=appeals[Appeal.Status.OPEN],
        criteria=criteria,
        requirements=requirements,
        auto_rules=auto_rules,
        now=now,
    )
