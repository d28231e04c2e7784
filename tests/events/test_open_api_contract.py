"""The open events API against its own OpenAPI document, property-based (schemathesis, bounded):
every answer to generated queries, valid or not, has a status and a body the document
describes, and no query makes the server fail."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from network_portal.wsgi import application
from tests import factories

pytestmark = pytest.mark.usefixtures("reference_organizations")


@pytest.fixture
def api_schema(transactional_db):
    # Through the WSGI application, as a client calls it: each request closes its database
    # connection when it ends, so the data is committed rather than held in a test's transaction.
    factories.event(title="Charging hubs", capacities=(3, 5))
    factories.event(title="Bike lanes", days_ahead=60)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_is_what_the_document_says(case):
    case.call_and_validate()
