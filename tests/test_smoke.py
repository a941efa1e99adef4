from .helpers import error_of


def test_me_answers_with_the_api_user_and_company(oneup, org):
    me = oneup.ok("GET", "/me")
    assert me["company"]["name"] == "Test Company"
    assert me["user_code"] == "EMP-001"
    assert me["email"] == org.oneup.email


def test_wrong_key_gets_401_code_1(client, org):
    response = client.get("/oneup/v1/customers", auth=(org.oneup.email, "wrong"))
    assert response.status_code == 401
    assert error_of(response)["code"] == "1"
