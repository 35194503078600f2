"""`flask demo`: demo content from the news site's article page. Safe to run again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from petitions.database import utcnow
from petitions.extensions import db
from petitions.newsletter.models import Article, Category, slugify
from petitions.signing.models import Petition, PetitionState
from petitions.signing.translations import PetitionTranslation

CATEGORY = "Immigration Policy & Border Issues"
DEMO_SITE = "https://truthandresistance.example/articles/"
LEAD_ARTICLE = (
    "DC Police to Notify ICE When They Encounter Illegal Aliens",
    "DC's police chief ordered that officers may share information with ICE and transport "
    "federal immigration agents and detainees.",
    datetime(2025, 8, 16, 23, 58, 22, tzinfo=UTC),
)
RELATED_HEADLINES = [
    "Man dies fleeing ICE raid in California: officials",
    "Morrisey ramps up immigration enforcement in WV; cops can question immigration status",
    "About 120,000 Ukrainians in US about to lose temporary legal status and face "
    "deportation, WSJ says",
    "Starting today, some Ukrainian refugees in US face deportation - WSJ",
    "Man dies fleeing ICE raid in California",
    "President Trump ramps up takeover of Washington's police department. Here's what to know",
    "Justice Department to remove emergency D.C. police chief and rewrite Bondi order on ICE "
    "cooperation (Video)",
    "Trump team backs down in stoush over Washington DC police takeover",
    "This Week in the Circuits: Ninth Weighs Trump's Layoffs, 'Remain in Mexico' Policy",
    "Report: ICE Planning to Double Immigration Detention Space Before December",
]

PETITION_SLUG = "end-dc-police-cooperation-with-ice"
PETITION_TITLE = "Keep DC police out of immigration enforcement"
PETITION_SUMMARY = (
    "Mayor Bowser and the DC Council: withdraw the order that lets Metropolitan Police "
    "officers share information with ICE and transport its agents and detainees."
)
PETITION_BODY = """\
A new order lets officers of DC's Metropolitan Police Department pass information to
Immigration and Customs Enforcement and drive its agents and the people they detain.

Every resident of this city should be able to call the police, report a crime or act as a
witness without fearing that the call ends with a family torn apart. When local officers
become an arm of immigration enforcement, people stop coming forward, and the whole city
is less safe.

**We ask the Mayor and the Council to:**

1. Withdraw the order and restate that MPD does not take part in civil immigration
   enforcement.
2. Put that rule into law, so that it does not depend on who runs the police this month.
3. Publish every request from ICE to MPD, and MPD's answer, each quarter.
"""

# The demo petition in Spanish, so that the language switch shows a translated petition.
PETITION_ES = (
    "Que la policía de DC no participe en la aplicación de las leyes de inmigración",
    "Alcaldesa Bowser y Concejo de DC: retiren la orden que permite a los agentes de la "
    "Policía Metropolitana compartir información con ICE y transportar a sus agentes y a "
    "las personas detenidas.",
    """\
Una nueva orden permite que los agentes del Departamento de Policía Metropolitana de DC
pasen información al Servicio de Inmigración y Control de Aduanas (ICE) y trasladen a sus
agentes y a las personas que detienen.

Todas las personas que viven en esta ciudad deben poder llamar a la policía, denunciar un
delito o servir de testigo sin miedo a que esa llamada termine con una familia separada.
Cuando la policía local se convierte en un brazo de la aplicación de las leyes de
inmigración, la gente deja de acercarse, y toda la ciudad es menos segura.

**Pedimos a la Alcaldesa y al Concejo que:**

1. Retiren la orden y reafirmen que la MPD no participa en la aplicación civil de las
   leyes de inmigración.
2. Conviertan esa norma en ley, para que no dependa de quién dirija la policía este mes.
3. Publiquen cada trimestre todas las solicitudes de ICE a la MPD y la respuesta de la MPD.
""",
)


def _category() -> Category:
    slug = slugify(CATEGORY)
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = Category(slug=slug, name=CATEGORY)
        db.session.add(category)
    return category


def _petition(category: Category) -> Petition:
    petition = db.session.scalar(select(Petition).where(Petition.slug == PETITION_SLUG))
    if petition is None:
        petition = Petition(
            slug=PETITION_SLUG,
            title=PETITION_TITLE,
            summary=PETITION_SUMMARY,
            body=PETITION_BODY,
            target="Mayor Muriel Bowser and the Council of the District of Columbia",
            goal=10_000,
            state=PetitionState.OPEN,
            closes_at=utcnow() + timedelta(days=90),
            category=category,
        )
        db.session.add(petition)
    return petition


def _spanish_text(petition: Petition) -> None:
    db.session.flush()  # the petition's id
    exists = db.session.scalar(select(PetitionTranslation.id).where(
        PetitionTranslation.petition_id == petition.id, PetitionTranslation.locale == "es"))
    if exists is None:
        title, summary, body = PETITION_ES
        db.session.add(PetitionTranslation(petition_id=petition.id, locale="es", title=title,
                                           summary=summary, body=body))


def _article(title: str, summary: str, published_at, category, petition=None) -> bool:
    url = DEMO_SITE + slugify(title, max_length=120)
    if db.session.scalar(select(Article.id).where(Article.url == url)) is not None:
        return False
    db.session.add(
        Article(
            title=title,
            url=url,
            summary=summary,
            published_at=published_at,
            category=category,
            petition=petition,
        )
    )
    return True


def load_demo() -> dict[str, int]:
    category = _category()
    petition = _petition(category)
    _spanish_text(petition)
    created = int(_article(*LEAD_ARTICLE, category, petition))
    for index, headline in enumerate(RELATED_HEADLINES):
        published = LEAD_ARTICLE[2] - timedelta(hours=6 * (index + 1))
        created += int(_article(headline, "", published, category))
    db.session.commit()
    return {"articles_created": created, "petition_id": petition.id}


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load the demo category, petition and articles (idempotent)."""
    result = load_demo()
    click.echo(
        f"Demo ready: petition /petitions/{PETITION_SLUG}, "
        f"{result['articles_created']} new article(s)."
    )
