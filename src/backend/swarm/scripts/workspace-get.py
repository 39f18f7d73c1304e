# Fetches a URL to stdout: how a swarm task whose image has python3, but neither curl nor
# wget, reads from the run's workspace service (st_get in workspace-client.sh).
import shutil, sys, urllib.request
shutil.copyfileobj(urllib.request.urlopen(sys.argv[1], timeout=600), sys.stdout.buffer)
